//! The contract between the Rust code and the HCL in `terraform/`: every variable `deploy`
//! writes into `terraform.tfvars.json` is declared (with a matching type), every variable
//! without a default is written, and every output the Rust code reads is declared.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use deploy_steps::terraform::{OUTPUTS_READ, TfVars};

#[derive(Debug)]
struct Variable {
    /// `string`, `number`, `bool`, `map`, `list`, ... (the outer type).
    kind: String,
    has_default: bool,
}

#[derive(Debug, Default)]
struct Stack {
    variables: BTreeMap<String, Variable>,
    outputs: Vec<String>,
}

fn outer_type(expr: &hcl::Expression) -> String {
    match expr {
        hcl::Expression::Variable(v) => v.as_str().to_string(),
        hcl::Expression::FuncCall(f) => f.name.name.as_str().to_string(),
        other => format!("{other:?}"),
    }
}

fn parse_stack(dir: &Path) -> Stack {
    let mut stack = Stack::default();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tf"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no *.tf files in {}", dir.display());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let body = hcl::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for block in body.blocks() {
            let Some(label) = block.labels().first() else {
                continue;
            };
            let name = label.as_str().to_string();
            match block.identifier() {
                "variable" => {
                    let attr = |key: &str| block.body().attributes().find(|a| a.key() == key);
                    let kind = attr("type").map_or("any".to_string(), |a| outer_type(a.expr()));
                    let has_default = attr("default").is_some();
                    stack.variables.insert(name, Variable { kind, has_default });
                }
                "output" => stack.outputs.push(name),
                _ => {}
            }
        }
    }
    stack
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::String(_) => "string",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Object(_) => "map",
        serde_json::Value::Array(_) => "list",
        serde_json::Value::Null => "null",
    }
}

fn written_variables(registry: bool) -> serde_json::Map<String, serde_json::Value> {
    let text = format!(
        "[project]\nname = \"hub\"\nenvironment = \"ci\"\nregion = \"us-east-1\"\n\
         [schemas]\nregistry = {registry}\n"
    );
    let config = deploy_config::parse(
        &support::repo_root().join("deploy.toml"),
        &text,
        &deploy_config::Overrides::default(),
    )
    .unwrap();
    let bytes = TfVars::from_config(&config).to_json();
    match serde_json::from_slice(&bytes).unwrap() {
        serde_json::Value::Object(m) => m,
        other => panic!("tfvars is not an object: {other}"),
    }
}

#[test]
fn every_variable_deploy_writes_is_declared_with_a_matching_type() {
    let stack = parse_stack(&support::repo_root().join("terraform"));
    for registry in [false, true] {
        for (name, value) in written_variables(registry) {
            let Some(var) = stack.variables.get(&name) else {
                panic!("deploy writes `{name}` but terraform/ declares no such variable");
            };
            assert_eq!(
                var.kind,
                json_kind(&value),
                "variable `{name}` is declared as {} but deploy writes {value}",
                var.kind
            );
        }
    }
}

#[test]
fn every_variable_without_a_default_is_written() {
    let stack = parse_stack(&support::repo_root().join("terraform"));
    let written = written_variables(false);
    for (name, var) in &stack.variables {
        assert!(
            var.has_default || written.contains_key(name),
            "terraform/ requires variable `{name}` (no default) but deploy never writes it"
        );
    }
}

#[test]
fn every_output_deploy_reads_is_declared() {
    let stack = parse_stack(&support::repo_root().join("terraform"));
    for name in OUTPUTS_READ {
        assert!(
            stack.outputs.iter().any(|o| o == name),
            "deploy reads output `{name}` but terraform/ declares only {:?}",
            stack.outputs
        );
    }
}
