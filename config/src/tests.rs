use std::path::Path;

use super::*;

fn parse_str(text: &str) -> Result<Config, ConfigError> {
    parse(Path::new("/p/deploy.toml"), text, &Overrides::default())
}

#[test]
fn everything_defaults_from_the_environment() {
    let c = parse_str(&format!(
        "[project]\nenvironment = \"qa\"\n\n{}",
        crate::starter_hub()
    ))
    .unwrap();
    assert_eq!(c.eventbus.name, "qa-application-events");
    assert_eq!(c.eventbus.archive_name, "qa-event-archive");
    assert_eq!(c.dlq.name, "qa-eventbridge-dlq");
    assert_eq!(c.schemas.registry_name, "qa-event-schemas");
    assert_eq!(c.lambdas.len(), 2);
    assert_eq!(c.lambdas[0].function_name, "qa-event-logger");
    assert_eq!(
        c.lambda_routes("event-logger")
            .iter()
            .map(|r| r.rule_name.as_str())
            .collect::<Vec<_>>(),
        ["qa-all-events-to-logger"]
    );
    assert_eq!(c.lambdas[1].function_name, "qa-dead-letter-processor");
    assert!(c.lambdas[1].dead_letter_queue);
    assert_eq!(c.terraform.dir, Path::new("/p/terraform"));
    assert_eq!(c.rule_names().len(), 7);
    assert_eq!(c.deployer_policy_name(), "eventbridge-hub-qa-deployer");
}

#[test]
fn unknown_key_is_an_error_naming_table_line_and_key() {
    let err =
        parse_str("[project]\nenvironment = \"qa\"\n\n[eventbus]\nnmae = \"x\"\n").unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("/p/deploy.toml:5:1:"), "{msg}");
    assert!(msg.contains("[eventbus]"), "{msg}");
    assert!(msg.contains("nmae"), "{msg}");
    assert!(
        msg.contains("archive_retention_days"),
        "lists the allowed keys: {msg}"
    );
}

#[test]
fn malformed_toml_names_the_line() {
    let err = parse_str("[project]\nenvironment = \"qa\nregion = 1\n").unwrap_err();
    assert!(err.to_string().starts_with("/p/deploy.toml:2:"), "{err}");
}

#[test]
fn invalid_environment_names_key_position_and_rule() {
    let err = parse_str("[project]\nenvironment = \"Prod_1\"\n").unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("/p/deploy.toml:2:15:"), "{msg}");
    assert!(msg.contains("project.environment"), "{msg}");
    assert!(msg.contains("lower-case letter"), "{msg}");
}

#[test]
fn sizes_must_be_in_range() {
    let err = parse_str("[lambdas.event-logger]\nmemory = 0\n").unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("lambdas.event-logger.memory"), "{msg}");
    assert!(msg.contains("128 to 10240"), "{msg}");
    let err = parse_str("[eventbus]\narchive_retention_days = -1\n").unwrap_err();
    assert!(err.to_string().contains("eventbus.archive_retention_days"));
}

#[test]
fn asynchronous_invocation_settings_default_to_lambdas_and_are_bounded() {
    let c = parse_str("").unwrap();
    assert_eq!(c.lambdas[0].async_retry_attempts, 2);
    assert_eq!(c.lambdas[0].async_max_event_age_seconds, 21_600);
    let c = parse_str(
        "[lambdas.event-logger]\nasync_retry_attempts = 0\nasync_max_event_age_seconds = 60\n",
    )
    .unwrap();
    assert_eq!(c.lambdas[0].async_retry_attempts, 0);
    assert_eq!(c.lambdas[0].async_max_event_age_seconds, 60);
    let err = parse_str("[lambdas.event-logger]\nasync_retry_attempts = 3\n").unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("/p/deploy.toml:2:"), "{msg}");
    assert!(
        msg.contains("lambdas.event-logger.async_retry_attempts"),
        "{msg}"
    );
    assert!(msg.contains("0 to 2"), "{msg}");
    let err = parse_str("[lambdas.dead-letter-processor]\nasync_max_event_age_seconds = 59\n")
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("/p/deploy.toml:2:"), "{msg}");
    assert!(msg.contains("60 to 21600"), "{msg}");
}

#[test]
fn wrong_type_is_reported_with_position() {
    let err = parse_str("[lambdas.event-logger]\ntimeout = \"thirty\"\n").unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("/p/deploy.toml:2:"), "{msg}");
    assert!(msg.contains("[lambdas.event-logger]"), "{msg}");
}

#[test]
fn environment_overrides_beat_the_file() {
    let o = Overrides {
        environment: Some("ci-7".into()),
        region: Some("eu-west-2".into()),
        ..Overrides::default()
    };
    let c = parse(
        Path::new("deploy.toml"),
        "[project]\nenvironment = \"dev\"\nregion = \"us-east-1\"\n",
        &o,
    )
    .unwrap();
    assert_eq!(c.project.environment, "ci-7");
    assert_eq!(c.project.region, "eu-west-2");
    assert_eq!(c.eventbus.name, "ci-7-application-events");
}

#[test]
fn bad_override_names_the_variable() {
    let o = Overrides {
        environment: Some("NOPE".into()),
        ..Overrides::default()
    };
    let err = parse(Path::new("deploy.toml"), "", &o).unwrap_err();
    assert!(err.to_string().contains("DEPLOY_ENVIRONMENT"), "{err}");
}

#[test]
fn local_mode_points_at_loopback_and_disables_the_registry() {
    let o = Overrides {
        local: true,
        ..Overrides::default()
    };
    let c = parse(Path::new("deploy.toml"), "[schemas]\nregistry = true\n", &o).unwrap();
    assert!(!c.schemas.registry);
    assert_eq!(c.aws.endpoint_url.as_deref(), Some(DEFAULT_LOCAL_ENDPOINT));
    let c = parse(
        Path::new("deploy.toml"),
        "[aws]\nendpoint_url = \"http://127.0.0.1:4999\"\n",
        &o,
    )
    .unwrap();
    assert_eq!(c.aws.endpoint_url.as_deref(), Some("http://127.0.0.1:4999"));
}

#[test]
fn lambdas_can_be_disabled_and_added() {
    let c = parse_str(&format!(
        "[lambdas.dead-letter-processor]\nenabled = false\n\n[lambdas.audit]\nrule = \"user-registered-to-welcome\"\nmemory = 512\n\n{}",
        crate::starter_hub()
    ))
    .unwrap();
    let keys: Vec<_> = c.lambdas.iter().map(|l| l.key.as_str()).collect();
    assert_eq!(keys, ["event-logger", "audit"]);
    assert_eq!(c.lambdas[1].memory_mb, 512);
    assert_eq!(c.lambdas[1].function_name, "dev-audit");
}

#[test]
fn iam_mode_is_checked() {
    assert_eq!(
        parse_str("[iam]\nmode = \"skip\"\n").unwrap().iam,
        IamMode::Skip
    );
    let err = parse_str("[iam]\nmode = \"admin\"\n").unwrap_err();
    assert!(err.to_string().contains("\"user-policy\""), "{err}");
}

#[test]
fn missing_optional_file_gives_defaults_but_explicit_one_is_required() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deploy.toml");
    assert!(load(&path, false, &Overrides::default()).is_ok());
    let err = load(&path, true, &Overrides::default()).unwrap_err();
    assert!(err.to_string().contains("deploy.toml"));
}

mod hub;
mod state;
mod warnings;

#[test]
fn a_bus_name_with_a_slash_is_refused_before_any_step_runs() {
    let err = parse_str("[project]\nenvironment = \"qa\"\n[eventbus]\nname = \"team/events\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("/p/deploy.toml:4:"), "{err}");
    assert!(err.contains("eventbus.name"), "{err}");
    assert!(err.contains("team/events"), "{err}");
    assert!(err.contains("no '/'"), "{err}");
}

#[test]
fn an_unknown_table_is_named_as_a_table() {
    let err = parse_str("[project]\nenvironment = \"qa\"\n\n[bogus]\nx = 1\n")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("/p/deploy.toml:4:"), "{err}");
    assert!(err.contains("unknown table [bogus]"), "{err}");
    assert!(!err.contains("in [project]"), "{err}");
    assert!(err.contains("[eventbus]"), "lists the tables: {err}");
}

#[test]
fn the_file_is_found_in_the_directory_or_above_it() {
    let root = tempfile::tempdir().unwrap();
    let deep = root.path().join("a/b");
    std::fs::create_dir_all(&deep).unwrap();
    assert_eq!(find(&deep), None);
    std::fs::write(root.path().join("deploy.toml"), "").unwrap();
    assert_eq!(find(&deep), Some(root.path().join("deploy.toml")));
}

#[test]
fn terraform_parallelism_is_a_bound_from_1_to_1000_with_a_default() {
    assert_eq!(
        parse_str("").unwrap().terraform.parallelism,
        DEFAULT_PARALLELISM
    );
    let c = parse_str("[terraform]\nparallelism = 250\n").unwrap();
    assert_eq!(c.terraform.parallelism, 250);
    assert_eq!(
        parse_str("[terraform]\nparallelism = 1\n")
            .unwrap()
            .terraform
            .parallelism,
        1
    );
    for bad in ["0", "-3", "1001"] {
        let err = parse_str(&format!(
            "[project]\nenvironment = \"qa\"\n[terraform]\nparallelism = {bad}\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("/p/deploy.toml:4:15:"), "{err}");
        assert!(err.contains("terraform.parallelism"), "{err}");
        assert!(err.contains("an integer from 1 to 1000"), "{err}");
    }
    let err = parse_str("[terraform]\nparallelism = \"auto\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("/p/deploy.toml:2:"), "{err}");
    assert!(err.contains("[terraform]"), "{err}");
}
