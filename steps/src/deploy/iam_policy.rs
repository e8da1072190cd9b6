//! The deployer policy: what the later steps need, each statement scoped to this deployment's
//! resources by ARN where the service allows it. Never `events:*` on `*`.

use deploy_config::Config;
use serde_json::{Value, json};

struct Statement {
    sid: &'static str,
    actions: &'static [&'static str],
    resources: Vec<String>,
    condition: Option<Value>,
}

fn statements(c: &Config, account: &str) -> Vec<Statement> {
    let region = &c.project.region;
    let env = &c.project.environment;
    let bus = &c.eventbus.name;
    let events = format!("arn:aws:events:{region}:{account}");
    let registry = &c.schemas.registry_name;
    let mut s = vec![
        Statement {
            sid: "EventBus",
            actions: &[
                "events:CreateEventBus",
                "events:DeleteEventBus",
                "events:DescribeEventBus",
                "events:PutEvents",
                "events:TagResource",
                "events:UntagResource",
                "events:ListTagsForResource",
            ],
            resources: vec![format!("{events}:event-bus/{bus}")],
            condition: None,
        },
        Statement {
            sid: "Rules",
            actions: &[
                "events:PutRule",
                "events:DeleteRule",
                "events:DescribeRule",
                "events:EnableRule",
                "events:DisableRule",
                "events:PutTargets",
                "events:RemoveTargets",
                "events:ListTargetsByRule",
                "events:TagResource",
                "events:UntagResource",
                "events:ListTagsForResource",
            ],
            resources: vec![format!("{events}:rule/{bus}/{env}-*")],
            condition: None,
        },
        Statement {
            sid: "ListRulesOnTheBus",
            actions: &["events:ListRules"],
            resources: vec![format!("{events}:rule/{bus}/*")],
            condition: None,
        },
        Statement {
            sid: "Archive",
            actions: &[
                "events:CreateArchive",
                "events:DeleteArchive",
                "events:DescribeArchive",
                "events:UpdateArchive",
            ],
            resources: vec![format!("{events}:archive/{env}-*")],
            condition: None,
        },
        Statement {
            sid: "Queues",
            actions: &[
                "sqs:CreateQueue",
                "sqs:DeleteQueue",
                "sqs:GetQueueAttributes",
                "sqs:SetQueueAttributes",
                "sqs:GetQueueUrl",
                "sqs:SendMessage",
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:PurgeQueue",
                "sqs:TagQueue",
                "sqs:UntagQueue",
                "sqs:ListQueueTags",
            ],
            resources: vec![format!("arn:aws:sqs:{region}:{account}:{env}-*")],
            condition: None,
        },
        Statement {
            sid: "Roles",
            actions: &[
                "iam:CreateRole",
                "iam:DeleteRole",
                "iam:GetRole",
                "iam:PassRole",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:UpdateAssumeRolePolicy",
                "iam:PutRolePolicy",
                "iam:GetRolePolicy",
                "iam:DeleteRolePolicy",
                "iam:ListRolePolicies",
                "iam:AttachRolePolicy",
                "iam:DetachRolePolicy",
                "iam:ListAttachedRolePolicies",
                "iam:ListInstanceProfilesForRole",
            ],
            resources: vec![format!("arn:aws:iam::{account}:role/{env}-*")],
            condition: None,
        },
        Statement {
            sid: "Functions",
            actions: &[
                "lambda:CreateFunction",
                "lambda:DeleteFunction",
                "lambda:GetFunction",
                "lambda:GetFunctionConfiguration",
                "lambda:UpdateFunctionCode",
                "lambda:UpdateFunctionConfiguration",
                "lambda:AddPermission",
                "lambda:RemovePermission",
                "lambda:GetPolicy",
                "lambda:TagResource",
                "lambda:ListTags",
                "lambda:PublishVersion",
                "lambda:ListVersionsByFunction",
                "lambda:CreateAlias",
                "lambda:UpdateAlias",
                "lambda:GetAlias",
                "lambda:DeleteAlias",
                "lambda:PutFunctionEventInvokeConfig",
                "lambda:GetFunctionEventInvokeConfig",
                "lambda:DeleteFunctionEventInvokeConfig",
            ],
            resources: vec![format!(
                "arn:aws:lambda:{region}:{account}:function:{env}-*"
            )],
            condition: None,
        },
        Statement {
            sid: "EventSourceMappingsOfOurFunctions",
            actions: &[
                "lambda:CreateEventSourceMapping",
                "lambda:GetEventSourceMapping",
                "lambda:UpdateEventSourceMapping",
                "lambda:DeleteEventSourceMapping",
                "lambda:ListEventSourceMappings",
            ],
            // Event source mappings have no ARN before they exist: scope by function instead.
            resources: vec!["*".into()],
            condition: Some(json!({
                "StringLike": {
                    "lambda:FunctionArn": format!("arn:aws:lambda:{region}:{account}:function:{env}-*")
                }
            })),
        },
        Statement {
            sid: "FunctionLogs",
            actions: &[
                "logs:CreateLogGroup",
                "logs:DeleteLogGroup",
                "logs:PutRetentionPolicy",
                "logs:DescribeLogStreams",
                "logs:FilterLogEvents",
                "logs:GetLogEvents",
            ],
            resources: vec![format!(
                "arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{env}-*"
            )],
            condition: None,
        },
        Statement {
            sid: "OwnUserAndThisPolicy",
            actions: &["iam:GetUser", "iam:GetUserPolicy", "iam:DeleteUserPolicy"],
            resources: vec![format!("arn:aws:iam::{account}:user/${{aws:username}}")],
            condition: None,
        },
    ];
    if c.schemas.registry {
        s.push(Statement {
            sid: "SchemaRegistry",
            actions: &[
                "schemas:CreateRegistry",
                "schemas:DeleteRegistry",
                "schemas:DescribeRegistry",
                "schemas:UpdateRegistry",
                "schemas:CreateSchema",
                "schemas:DeleteSchema",
                "schemas:DescribeSchema",
                "schemas:UpdateSchema",
                "schemas:ListSchemas",
                "schemas:TagResource",
                "schemas:UntagResource",
                "schemas:ListTagsForResource",
            ],
            resources: vec![
                format!("arn:aws:schemas:{region}:{account}:registry/{registry}"),
                format!("arn:aws:schemas:{region}:{account}:schema/{registry}/*"),
            ],
            condition: None,
        });
    }
    s
}

/// The policy document (IAM JSON).
pub fn document(c: &Config, account: &str) -> Value {
    let statements: Vec<Value> = statements(c, account)
        .into_iter()
        .map(|s| {
            let mut v = json!({
                "Sid": s.sid,
                "Effect": "Allow",
                "Action": s.actions,
                "Resource": s.resources,
            });
            if let Some(cond) = s.condition {
                v["Condition"] = cond;
            }
            v
        })
        .collect();
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// A human summary: one line per statement.
pub fn summary(c: &Config, account: &str) -> String {
    statements(c, account)
        .iter()
        .map(|s| {
            format!(
                "    {:<36} {} actions on {}\n",
                s.sid,
                s.actions.len(),
                s.resources.join(", ")
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        deploy_config::parse(
            std::path::Path::new("deploy.toml"),
            "[project]\nenvironment = \"qa\"\n",
            &deploy_config::Overrides::default(),
        )
        .unwrap()
    }

    #[test]
    fn no_wildcard_action_on_every_resource() {
        let doc = document(&config(), "123456789012");
        for st in doc["Statement"].as_array().unwrap() {
            let actions: Vec<&str> = st["Action"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            assert!(actions.iter().all(|a| !a.ends_with(":*")), "{st}");
            let everything = st["Resource"].as_array().unwrap().iter().any(|r| r == "*");
            if everything {
                assert!(st.get("Condition").is_some(), "unscoped statement {st}");
            }
        }
    }

    #[test]
    fn resources_name_the_environment_and_bus() {
        let doc = document(&config(), "123456789012").to_string();
        assert!(
            doc.contains("arn:aws:events:us-east-1:123456789012:event-bus/qa-application-events")
        );
        assert!(doc.contains("rule/qa-application-events/qa-*"));
        assert!(doc.contains("arn:aws:sqs:us-east-1:123456789012:qa-*"));
        assert!(doc.contains("arn:aws:iam::123456789012:role/qa-*"));
        assert!(doc.contains("registry/qa-event-schemas"));
    }
}
