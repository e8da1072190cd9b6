//! No state here is not proof that nothing is deployed: when this deployment has no state at the
//! configured location, look for resources with its names before saying anything.

use deploy_steps::ownership;
use serde_json::json;

use crate::error::{self, CliError};
use crate::session::{Opened, Session};

/// What a look through the API found for a deployment without state.
pub enum Found {
    /// There is state: nothing was looked for.
    HasState,
    /// No state, and none of the deployment's names exist (checked).
    Nothing { checked: usize },
    /// No state, but these resources carry the deployment's names.
    Unowned(Vec<String>),
}

pub async fn look(session: &Session, opened: &Opened) -> Result<Found, CliError> {
    if !opened.ledger.is_empty().await {
        return Ok(Found::HasState);
    }
    let aws = opened
        .env
        .aws()
        .await
        .map_err(|e| CliError::failed(format!("cannot reach AWS to look: {e}")))?;
    let names = ownership::named_resources(&session.config);
    let found = ownership::existing(aws, &names).await;
    Ok(if found.is_empty() {
        Found::Nothing {
            checked: names.len(),
        }
    } else {
        Found::Unowned(
            found
                .iter()
                .map(|r| format!("{} {}", r.kind, r.name))
                .collect(),
        )
    })
}

/// Says what was found without state, and how to go on; the exit code is
/// [`error::STATE_MISSING`].
pub fn report(session: &Session, opened: &Opened, found: &[String], as_json: bool) -> u8 {
    let location = opened.ledger.location();
    if as_json {
        let doc = json!({
            "verdict": "state missing",
            "state": location,
            "deployment": session.identity.to_string(),
            "found": found,
        });
        session
            .printer
            .out(&serde_json::to_string_pretty(&doc).expect("json"));
        return error::STATE_MISSING;
    }
    let mut t = format!(
        "No state for deployment {} at {location}, but these resources with its names exist \
         ({}):\n",
        session.identity, opened.env.target
    );
    for f in found {
        t.push_str(&format!("  {f}\n"));
    }
    t.push_str(
        "Nothing was changed, and nothing is reported as clean. Two ways forward:\n\
         - they were deployed from state kept elsewhere: point deploy at it (the shared S3 \
         state with [state] backend = \"s3\" or DEPLOY_STATE_BUCKET, or --state-dir for \
         another checkout's directory);\n\
         - the state is lost: `deploy adopt` rebuilds it from the resources' ownership tags, or \
         `deploy destroy --discover` removes everything that carries them (what has these \
         names without the tags is left alone).",
    );
    session.printer.out(&t);
    error::STATE_MISSING
}

/// Resources that carry this deployment's tags but that its state neither owns nor remembers
/// destroying (those are reported as still present).
pub async fn orphans(
    session: &Session,
    env: &deploy_steps::Env,
    state: &deploy_state::LedgerState,
) -> Vec<deploy_state::Resource> {
    let Ok(aws) = env.aws().await else {
        return Vec::new();
    };
    match deploy_steps::discover::tagged(aws, &session.config).await {
        Ok(tagged) => tagged
            .into_iter()
            .filter(|r| {
                !deploy_steps::discover::in_inventory(&state.inventory, r)
                    && !deploy_steps::discover::in_inventory(&state.retired, r)
            })
            .collect(),
        Err(e) => {
            session
                .printer
                .warn(&format!("could not look for orphans by their tags: {e}"));
            Vec::new()
        }
    }
}
