//! The command line as a whole: consistent, documented.

use super::*;

#[test]
fn cli_is_consistent() {
    use clap::CommandFactory;
    Cli::command().debug_assert();
}

#[test]
fn every_argument_has_a_help_line() {
    use clap::CommandFactory;
    fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("{path} {id}"));
            }
        }
        for sub in cmd.get_subcommands() {
            if sub.get_about().is_none() {
                missing.push(format!("{path} {} (about)", sub.get_name()));
            }
            walk(sub, &format!("{path} {}", sub.get_name()), missing);
        }
    }
    let mut missing = Vec::new();
    walk(&Cli::command(), "deploy", &mut missing);
    assert!(missing.is_empty(), "without help: {missing:?}");
}

/// The global flags' ids.
const GLOBAL_FLAGS: [&str; 7] = [
    "config",
    "state_dir",
    "color",
    "verbose",
    "quiet",
    "local",
    "wait_lock",
];

/// `deploy <path> --help`.
fn help(path: &[&str]) -> String {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    cmd.build();
    let mut at = &mut cmd;
    for name in path {
        at = at.find_subcommand_mut(name).expect("a subcommand");
    }
    at.render_long_help().to_string()
}

#[test]
fn help_shows_the_global_flags_a_command_uses_and_hides_the_others() {
    let all = help(&["all"]);
    for flag in ["--wait-lock", "--local", "--state-dir", "--config"] {
        assert!(all.contains(flag), "deploy all --help lacks {flag}:\n{all}");
    }
    let status = help(&["status"]);
    assert!(status.contains("--local") && !status.contains("--wait-lock"));
    let check = help(&["contracts", "check"]);
    assert!(check.contains("--config"), "{check}");
    assert!(!check.contains("--local") && !check.contains("--wait-lock"));
    let init = help(&["init"]);
    assert!(
        init.contains("--config") && init.contains("--quiet"),
        "{init}"
    );
    assert!(
        !init.contains("--state-dir") && !init.contains("--local"),
        "{init}"
    );
    let completions = help(&["completions"]);
    for flag in [
        "--wait-lock",
        "--local",
        "--state-dir",
        "--config",
        "--color",
    ] {
        assert!(!completions.contains(flag), "{flag} shown:\n{completions}");
    }
    let top = help(&[]);
    for flag in [
        "--wait-lock",
        "--local",
        "--state-dir",
        "--config",
        "--color",
    ] {
        assert!(top.contains(flag), "deploy --help lacks {flag}:\n{top}");
    }
}

#[test]
fn every_command_accepts_every_global_flag() {
    use clap::CommandFactory;
    fn walk(cmd: &clap::Command, path: &str) {
        for id in GLOBAL_FLAGS {
            assert!(
                cmd.get_arguments().any(|a| a.get_id() == id),
                "{path} lacks {id}"
            );
        }
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            walk(sub, &format!("{path} {}", sub.get_name()));
        }
    }
    let mut cmd = Cli::command();
    cmd.build();
    walk(&cmd, "deploy");
}

/// The options the bash script offers after `deploy <path>`.
fn bash_options(path: &str) -> String {
    let mut script = Vec::new();
    let mut cmd = for_completions();
    clap_complete::generate(clap_complete::Shell::Bash, &mut cmd, "deploy", &mut script);
    let script = String::from_utf8(script).unwrap();
    let case = format!("deploy__subcmd__{})", path.replace(' ', "__subcmd__"));
    let at = script.find(&case).expect(&case);
    let opts = script[at..].lines().find(|l| l.contains("opts=")).unwrap();
    opts.to_string()
}

#[test]
fn completions_offer_the_global_flags_a_command_uses_and_not_the_others() {
    let all = bash_options("all");
    for flag in ["--wait-lock", "--local", "--state-dir", "--config"] {
        assert!(all.contains(flag), "deploy all lacks {flag}: {all}");
    }
    let status = bash_options("status");
    assert!(
        status.contains("--local") && !status.contains("--wait-lock"),
        "{status}"
    );
    let check = bash_options("contracts check");
    assert!(
        check.contains("--config") && !check.contains("--local"),
        "{check}"
    );
    let init = bash_options("init");
    assert!(
        init.contains("--config") && !init.contains("--state-dir"),
        "{init}"
    );
    let completions = bash_options("completions");
    assert!(!completions.contains("--config"), "{completions}");
}

#[test]
fn a_hidden_global_flag_is_still_accepted() {
    let cli =
        Cli::try_parse_from(["deploy", "status", "--wait-lock", "5s", "--json"]).expect("parses");
    assert_eq!(
        cli.global.wait_lock.duration,
        Some(std::time::Duration::from_secs(5))
    );
    let cli =
        Cli::try_parse_from(["deploy", "completions", "bash", "--local", "-q"]).expect("parses");
    assert!(cli.global.local.enabled && cli.global.output.quiet);
}

#[test]
fn a_global_flag_reaches_cli_global_wherever_it_is_given() {
    let cli = Cli::try_parse_from(["deploy", "--local", "--color", "never", "plan"]).unwrap();
    assert!(cli.global.local.enabled);
    assert_eq!(cli.global.output.color, ColorChoice::Never);
    let cli = Cli::try_parse_from(["deploy", "contracts", "check", "--config", "x.toml"]).unwrap();
    assert_eq!(cli.global.config.path, Some("x.toml".into()));
    let cli = Cli::try_parse_from(["deploy", "emulator", "--state-dir", "s", "stop"]).unwrap();
    assert_eq!(cli.global.state_dir.path, Some("s".into()));
    let cli = Cli::try_parse_from(["deploy", "status"]).unwrap();
    assert_eq!(cli.global.output.color, ColorChoice::Auto);
    assert!(!cli.global.local.enabled && cli.global.wait_lock.duration.is_none());
    let err = Cli::try_parse_from(["deploy", "status", "-v", "-q"]).unwrap_err();
    assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
}

#[test]
fn replay_durations_and_times_are_parsed_by_clap() {
    let cli = Cli::try_parse_from(["deploy", "replay", "--since", "3d"]).unwrap();
    let Command::Replay(r) = cli.command else {
        panic!("replay")
    };
    assert_eq!(r.since.as_secs(), 3 * 86_400);
    assert_eq!(r.timeout, std::time::Duration::from_secs(600));
    assert!(r.until.is_none());
    for (args, says) in [
        (
            &["--since", "0s"][..],
            "`0s` is not a positive duration: use e.g. 10m, 2h or 3d",
        ),
        (
            &["--since", "2h", "--until", "soon"],
            "`soon` is not a time; use RFC 3339",
        ),
        (
            &["--since", "2h", "--timeout", "25h"],
            "`25h` is longer than 24h",
        ),
    ] {
        let err = Cli::try_parse_from(["deploy", "replay"].iter().chain(args))
            .unwrap_err()
            .to_string();
        assert!(err.contains(says), "{err}");
        assert!(err.contains(&format!("'{}", args[args.len() - 2])), "{err}");
    }
}
