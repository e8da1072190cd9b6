//! Names pinned to another environment's derived name are warned about.

use std::path::Path;

use super::*;

fn in_environment(env: &str, text: impl AsRef<str>) -> Config {
    let text = text.as_ref();
    let o = Overrides {
        environment: Some(env.into()),
        ..Overrides::default()
    };
    parse(Path::new("deploy.toml"), text, &o).unwrap()
}

#[test]
fn a_bus_name_from_another_environment_is_warned_about_with_the_fix() {
    let c = in_environment(
        "b",
        "[project]\nenvironment = \"a\"\n\n[eventbus]\nname = \"a-application-events\"\n",
    );
    assert_eq!(
        c.warnings,
        [
            "deploy.toml:5: eventbus.name = \"a-application-events\" looks derived from \
             environment \"a\", but the environment is \"b\" (DEPLOY_ENVIRONMENT); remove \
             the key to use \"b-application-events\""
        ]
    );
    // The pinned value is still used: a warning, not a change.
    assert_eq!(c.eventbus.name, "a-application-events");
}

#[test]
fn every_derived_name_key_is_checked() {
    let c = in_environment(
        "prod",
        r#"[project]
name = "hub"
environment = "dev"

[dlq]
name = "dev-eventbridge-dlq"

[schemas]
registry_name = "dev-event-schemas"

[lambdas.event-logger]
function_name = "dev-event-logger"
rule = "dev-all-events-to-logger"

[lambdas.audit]
function_name = "staging-2-audit"
rule = "dev-user-registered-to-welcome"

[state]
prefix = "hub/dev"
"#
        .to_string()
            + crate::starter_hub(),
    );
    let w = c.warnings.join("\n");
    for expected in [
        "deploy.toml:6: dlq.name = \"dev-eventbridge-dlq\"",
        "deploy.toml:9: schemas.registry_name = \"dev-event-schemas\"",
        "deploy.toml:12: lambdas.event-logger.function_name = \"dev-event-logger\"",
        "deploy.toml:13: lambdas.event-logger.rule = \"dev-all-events-to-logger\"",
        "deploy.toml:16: lambdas.audit.function_name = \"staging-2-audit\" looks derived \
         from environment \"staging-2\"",
        "remove the key to use \"prod-audit\"",
        "deploy.toml:17: lambdas.audit.rule = \"dev-user-registered-to-welcome\"",
        "set it to \"prod-user-registered-to-welcome\"",
        "deploy.toml:20: state.prefix = \"hub/dev\" looks derived from environment \"dev\"",
        "remove the key to use \"hub/prod/\"",
    ] {
        assert!(w.contains(expected), "missing {expected:?} in\n{w}");
    }
    assert_eq!(c.warnings.len(), 7, "{w}");
    assert!(
        c.warnings
            .iter()
            .all(|w| w.contains("the environment is \"prod\" (DEPLOY_ENVIRONMENT)")),
        "{w}"
    );
}

#[test]
fn names_of_the_current_environment_or_of_no_environment_are_not_warned_about() {
    let text = "[project]\nenvironment = \"qa-2\"\n\n[eventbus]\nname = \"qa-2-application-events\"\n\n\
                [dlq]\nname = \"orders_dlq\"\n\n[schemas]\nregistry_name = \"Shared-event-schemas\"\n";
    assert_eq!(parse_str(text).unwrap().warnings, Vec::<String>::new());
    assert_eq!(in_environment("qa-2", text).warnings, Vec::<String>::new());
}

#[test]
fn a_file_whose_own_environment_disagrees_with_a_pinned_name_names_the_key() {
    let c =
        parse_str("[project]\nenvironment = \"prod\"\n\n[dlq]\nname = \"dev-eventbridge-dlq\"\n")
            .unwrap();
    assert_eq!(c.warnings.len(), 1);
    assert!(
        c.warnings[0].ends_with(
            "but the environment is \"prod\" (project.environment); remove the key to use \
             \"prod-eventbridge-dlq\""
        ),
        "{}",
        c.warnings[0]
    );
}

#[test]
fn a_disabled_lambda_is_not_warned_about() {
    let c = in_environment(
        "prod",
        "[lambdas.dead-letter-processor]\nenabled = false\nfunction_name = \"dev-dead-letter-processor\"\n",
    );
    assert_eq!(c.warnings, Vec::<String>::new());
}
