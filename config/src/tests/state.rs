//! `[state]` and `DEPLOY_STATE_BUCKET`.

use std::path::Path;
use std::time::Duration;

use super::*;
use crate::validate::bucket_name_problem;

fn with_bucket_var(text: &str, bucket: &str) -> Result<Config, ConfigError> {
    let o = Overrides {
        state_bucket: Some(bucket.into()),
        ..Overrides::default()
    };
    parse(Path::new("/p/deploy.toml"), text, &o)
}

#[test]
fn without_a_state_table_the_state_stays_on_disk() {
    let c = parse_str("[project]\nname = \"hub\"\nenvironment = \"qa\"\n").unwrap();
    assert_eq!(
        c.state,
        StateConfig {
            backend: StateBackend::Local,
            bucket: None,
            prefix: "hub/qa/".into(),
            region: None,
            kms_key_id: None,
            lock_lease: Duration::from_secs(60),
        }
    );
}

#[test]
fn the_default_prefix_follows_deploy_environment() {
    let o = Overrides {
        environment: Some("ci-7".into()),
        ..Overrides::default()
    };
    let c = parse(
        Path::new("deploy.toml"),
        "[project]\nenvironment = \"dev\"\n",
        &o,
    )
    .unwrap();
    assert_eq!(c.state.prefix, "eventbridge-hub/ci-7/");
}

#[test]
fn every_state_key_is_read() {
    let c = parse_str(
        "[state]\nbackend = \"s3\"\nbucket = \"acme-deploy-state\"\nprefix = \"teams/media\"\n\
         region = \"eu-west-1\"\nkms_key_id = \"alias/deploy-state\"\nlock_lease_seconds = 300\n",
    )
    .unwrap();
    assert_eq!(
        c.state,
        StateConfig {
            backend: StateBackend::S3,
            bucket: Some("acme-deploy-state".into()),
            prefix: "teams/media/".into(),
            region: Some("eu-west-1".into()),
            kms_key_id: Some("alias/deploy-state".into()),
            lock_lease: Duration::from_secs(300),
        }
    );
}

#[test]
fn s3_backend_without_a_bucket_leaves_the_bucket_to_be_derived() {
    let c = parse_str("[state]\nbackend = \"s3\"\n").unwrap();
    assert_eq!(c.state.backend, StateBackend::S3);
    assert_eq!(c.state.bucket, None);
}

#[test]
fn a_bucket_alone_implies_the_s3_backend() {
    let c = parse_str("[state]\nbucket = \"acme-deploy-state\"\n").unwrap();
    assert_eq!(c.state.backend, StateBackend::S3);
    assert_eq!(c.state.bucket.as_deref(), Some("acme-deploy-state"));
}

#[test]
fn local_backend_with_a_bucket_is_an_error_naming_both_keys() {
    let err = parse_str("[state]\nbackend = \"local\"\nbucket = \"acme-deploy-state\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("/p/deploy.toml:3:10:"), "{err}");
    assert!(err.contains("state.bucket"), "{err}");
    assert!(err.contains("state.backend"), "{err}");
}

#[test]
fn an_invalid_bucket_names_key_position_and_the_rule() {
    let err = parse_str("[state]\nbucket = \"Acme_State\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("/p/deploy.toml:2:10:"), "{err}");
    assert!(err.contains("key `state.bucket`"), "{err}");
    assert!(
        err.contains("`Acme_State` is not a valid S3 bucket name"),
        "{err}"
    );
    assert!(err.contains("3 to 63 characters"), "{err}");
}

#[test]
fn an_unknown_backend_lists_the_allowed_ones() {
    let err = parse_str("[state]\nbackend = \"dynamodb\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("/p/deploy.toml:2:11:"), "{err}");
    assert!(err.contains("state.backend"), "{err}");
    assert!(err.contains("\"local\" or \"s3\""), "{err}");
}

#[test]
fn an_unknown_state_key_is_an_error_listing_the_allowed_keys() {
    let err = parse_str("[state]\nbuckt = \"x\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("/p/deploy.toml:2:1:"), "{err}");
    assert!(err.contains("[state]"), "{err}");
    assert!(err.contains("buckt"), "{err}");
    assert!(err.contains("lock_lease_seconds"), "{err}");
}

#[test]
fn deploy_state_bucket_selects_s3_and_beats_the_file() {
    let c = with_bucket_var("[state]\nbucket = \"file-bucket\"\n", "ci-bucket").unwrap();
    assert_eq!(c.state.backend, StateBackend::S3);
    assert_eq!(c.state.bucket.as_deref(), Some("ci-bucket"));
    let c = with_bucket_var("[state]\nbackend = \"local\"\n", "ci-bucket").unwrap();
    assert_eq!(c.state.backend, StateBackend::S3);
    assert_eq!(c.state.bucket.as_deref(), Some("ci-bucket"));
}

#[test]
fn an_invalid_deploy_state_bucket_names_the_variable_and_value() {
    let err = with_bucket_var("", "my..bucket").unwrap_err().to_string();
    assert!(err.contains("DEPLOY_STATE_BUCKET"), "{err}");
    assert!(err.contains("`my..bucket`"), "{err}");
    assert!(err.contains("adjacent periods"), "{err}");
}

#[test]
fn the_prefix_gets_a_trailing_slash_and_may_not_escape() {
    let c = parse_str("[state]\nprefix = \"media/prod\"\n").unwrap();
    assert_eq!(c.state.prefix, "media/prod/");
    for bad in ["/media/prod/", "media/../prod/", "media prod/", ""] {
        let err = parse_str(&format!("[state]\nprefix = \"{bad}\"\n"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("/p/deploy.toml:2:10:"), "{bad:?}: {err}");
        assert!(err.contains("state.prefix"), "{bad:?}: {err}");
    }
}

#[test]
fn the_state_region_is_checked_like_the_project_region() {
    let err = parse_str("[state]\nregion = \"eu-west\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("/p/deploy.toml:2:10:"), "{err}");
    assert!(err.contains("state.region"), "{err}");
    assert!(err.contains("us-east-1"), "{err}");
}

#[test]
fn the_lock_lease_is_bounded() {
    let c = parse_str("[state]\nlock_lease_seconds = 3600\n").unwrap();
    assert_eq!(c.state.lock_lease, Duration::from_secs(3600));
    for bad in [1, 3601] {
        let err = parse_str(&format!("[state]\nlock_lease_seconds = {bad}\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("state.lock_lease_seconds"), "{err}");
        assert!(err.contains("from 2 to 3600"), "{err}");
    }
}

#[test]
fn a_kms_key_id_may_not_be_blank() {
    let err = parse_str("[state]\nkms_key_id = \"\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("state.kms_key_id"), "{err}");
}

#[test]
fn the_default_bucket_names_project_account_and_region() {
    assert_eq!(
        default_state_bucket("eventbridge-hub", "123456789012", "us-east-1"),
        "eventbridge-hub-state-123456789012-us-east-1"
    );
}

#[test]
fn a_long_project_name_is_shortened_to_fit_63_characters() {
    let name = default_state_bucket(
        "a-very-long-project-name-that-goes-on-ab",
        "123456789012",
        "ap-southeast-2",
    );
    assert_eq!(name.len(), 63, "{name}");
    assert!(
        name.ends_with("-state-123456789012-ap-southeast-2"),
        "{name}"
    );
    // The cut lands on a '-': it is trimmed, not doubled.
    let name = default_state_bucket(
        &format!("{}-{}", "a".repeat(28), "b".repeat(11)),
        "123456789012",
        "ap-southeast-2",
    );
    assert_eq!(
        name,
        format!("{}-state-123456789012-ap-southeast-2", "a".repeat(28))
    );
}

#[test]
fn a_reserved_bucket_prefix_is_dropped_from_the_project_part() {
    assert_eq!(
        default_state_bucket("xn--media", "123456789012", "us-east-1"),
        "media-state-123456789012-us-east-1"
    );
    assert_eq!(
        default_state_bucket("sthree-", "123456789012", "us-east-1"),
        "state-123456789012-us-east-1"
    );
}

#[test]
fn the_default_bucket_is_always_a_valid_bucket_name() {
    let regions = [
        "us-east-1",
        "eu-central-2",
        "us-gov-west-1",
        "ap-southeast-10",
        "cn-northwest-1",
        "il-central-1",
    ];
    let accounts = ["000000000000", "123456789012", "999999999999"];
    let mut projects: Vec<String> = vec![
        "a".into(),
        "a-".into(),
        "a--b".into(),
        "xn--".into(),
        "xn--x".into(),
        "sthree-".into(),
        "sthree-xn--app".into(),
        "amzn-s3-demo-".into(),
        "amzn-s3-demo-bucket".into(),
        "eventbridge-hub".into(),
        "z".repeat(40),
        format!("{}-", "z".repeat(39)),
    ];
    // Every length, with a '-' at every position that could end up last after the cut.
    for len in 1..=40 {
        projects.push("p".repeat(len));
        for dash in 1..len {
            let mut p: Vec<char> = "p".repeat(len).chars().collect();
            p[dash] = '-';
            projects.push(p.into_iter().collect());
        }
    }
    for project in &projects {
        assert!(validate::project_name(project).is_ok(), "{project}");
        for account in accounts {
            for region in regions {
                let name = default_state_bucket(project, account, region);
                assert_eq!(
                    bucket_name_problem(&name),
                    None,
                    "{project} {account} {region} -> {name}"
                );
                assert!(
                    name.ends_with(&format!("state-{account}-{region}")),
                    "{name}"
                );
            }
        }
    }
}
