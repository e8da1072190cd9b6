//! What a command says when a deployment has no state here but resources with its names exist.

use deploy_state::Resource;
use serde_json::{Value, json};

pub fn json(deployment: &str, location: &str, found: &[Resource]) -> Value {
    json!({
        "verdict": "state missing",
        "state": location,
        "deployment": deployment,
        "found": found.iter().map(Resource::label).collect::<Vec<_>>(),
    })
}

pub fn text(deployment: &str, location: &str, target: &str, found: &[Resource]) -> String {
    let mut t = format!(
        "No state for deployment {deployment} at {location}, but these resources with its names \
         exist ({target}):\n"
    );
    for f in found {
        t.push_str(&format!("  {}\n", f.label()));
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
    t
}
