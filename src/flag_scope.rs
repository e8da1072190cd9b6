//! Which global flags each command shows. Every global flag is still accepted everywhere (a
//! script may pass `--local` or `--wait-lock` to every command it runs), but a command's help
//! and its completions list only the ones that change what it does.

use clap::{Arg, Command, CommandFactory};

use crate::cli::Cli;

/// Global flags (clap ids) that a command ignores, with its subcommands. A command not listed
/// uses all of them.
const IGNORED: &[(&str, &[&str])] = &[
    (
        "completions",
        &[
            "config",
            "state_dir",
            "color",
            "verbose",
            "quiet",
            "local",
            "wait_lock",
        ],
    ),
    // Writes deploy.toml; no state, no AWS, no lock.
    ("init", &["state_dir", "local", "wait_lock"]),
    // Reads the local ledger only (with S3 state the shipped versions are "unknown here").
    ("contracts", &["local", "wait_lock"]),
    // The emulator's record lives under the state directory; it takes no lock.
    ("emulator", &["local", "wait_lock"]),
    // Readers: they never take the lock.
    ("plan", &["wait_lock"]),
    ("status", &["wait_lock"]),
    ("outputs", &["wait_lock"]),
    ("logs", &["wait_lock"]),
    ("unlock", &["wait_lock"]),
];

/// The command line as parsed and as shown: [`Cli`] with each command's ignored global flags
/// hidden from its help.
pub fn command() -> Command {
    let mut cmd = Cli::command();
    let globals: Vec<Arg> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .cloned()
        .collect();
    // A subcommand that already has an argument with a global's id keeps its own copy when
    // clap propagates the globals (at build time), so a hidden copy hides it there and in the
    // subcommand's own subcommands, and its value still reaches `Cli::global`.
    for (name, ids) in IGNORED {
        cmd = cmd.mut_subcommand(*name, |mut sub| {
            for arg in globals
                .iter()
                .filter(|a| ids.contains(&a.get_id().as_str()))
            {
                sub = sub.arg(arg.clone().hide(true));
            }
            sub
        });
    }
    cmd
}

/// The command line for completion scripts. Their generators list hidden arguments too, so
/// here the global flags are not global: the top level keeps them, and each command (with its
/// subcommands) gets its own copy of the ones it uses.
pub fn for_completions() -> Command {
    let mut cmd = Cli::command();
    let globals: Vec<Arg> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .map(|a| a.clone().global(false))
        .collect();
    for arg in &globals {
        cmd = cmd.mut_arg(arg.get_id(), |a| a.global(false));
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        let ignored = IGNORED
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(&[][..], |(_, ids)| *ids);
        let used: Vec<Arg> = globals
            .iter()
            .filter(|a| !ignored.contains(&a.get_id().as_str()))
            .cloned()
            .collect();
        cmd = cmd.mut_subcommand(name, |sub| with_args(sub, &used));
    }
    cmd
}

/// `cmd` and its subcommands, each with `args` added.
fn with_args(mut cmd: Command, args: &[Arg]) -> Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        cmd = cmd.mut_subcommand(name, |sub| with_args(sub, args));
    }
    cmd.args(args.iter().cloned())
}

#[cfg(test)]
mod tests {
    use clap::FromArgMatches;

    use super::*;

    fn help(path: &[&str]) -> String {
        let mut cmd = command();
        cmd.build();
        let mut at = &mut cmd;
        for name in path {
            at = at.find_subcommand_mut(name).expect("a subcommand");
        }
        at.render_long_help().to_string()
    }

    #[test]
    fn every_ignoring_command_exists() {
        let cmd = Cli::command();
        for (name, _) in IGNORED {
            assert!(cmd.find_subcommand(name).is_some(), "{name}");
        }
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
        let completions = bash_options("completions");
        assert!(!completions.contains("--config"), "{completions}");
    }

    #[test]
    fn a_hidden_global_flag_is_still_accepted() {
        let matches = command()
            .try_get_matches_from(["deploy", "status", "--wait-lock", "5s", "--json"])
            .expect("parses");
        let cli = Cli::from_arg_matches(&matches).expect("a Cli");
        assert_eq!(
            cli.global.wait_lock,
            Some(std::time::Duration::from_secs(5))
        );
    }
}
