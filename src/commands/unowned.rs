//! No state here is not proof that nothing is deployed: when this deployment has no state at the
//! configured location, look for resources with its names before saying anything.

use deploy_steps::discover::{self, WithoutState};

use crate::error::{self, CliError};
use crate::session::{Opened, Session};
use crate::views;

/// With state: `None`, nothing looked for. Without: what exists with the deployment's names.
pub async fn look(session: &Session, opened: &Opened) -> Result<Option<WithoutState>, CliError> {
    if !opened.ledger.is_empty().await {
        return Ok(None);
    }
    let aws = opened
        .env
        .aws()
        .await
        .map_err(|e| CliError::failed(format!("cannot reach AWS to look: {e}")))?;
    Ok(Some(discover::without_state(aws, &session.config).await))
}

/// When the deployment has no state here but resources with its names exist: says so, and how
/// to go on, and returns [`error::STATE_MISSING`].
pub async fn report_if_stateless(
    session: &Session,
    opened: &Opened,
    as_json: bool,
) -> Result<Option<u8>, CliError> {
    let Some(WithoutState::Named(found)) = look(session, opened).await? else {
        return Ok(None);
    };
    Ok(Some(report(session, opened, &found, as_json)))
}

pub fn report(
    session: &Session,
    opened: &Opened,
    found: &[deploy_state::Resource],
    as_json: bool,
) -> u8 {
    let (who, location) = (session.identity.to_string(), opened.ledger.location());
    let text = if as_json {
        let doc = views::unowned::json(&who, &location, found);
        serde_json::to_string_pretty(&doc).expect("json")
    } else {
        views::unowned::text(&who, &location, &opened.env.target, found)
    };
    session.printer.out(&text);
    error::STATE_MISSING
}
