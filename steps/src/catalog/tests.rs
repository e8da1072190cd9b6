use deploy_state::{Resource, ResourceKind};

use super::*;
use crate::discover::from_arn;

#[test]
fn arns_name_the_resources_this_deployment_makes() {
    let k = |arn: &str| from_arn(arn).map(|r| r.label());
    assert_eq!(
        k("arn:aws:events:us-east-1:1:event-bus/dev-bus").as_deref(),
        Some("event-bus dev-bus")
    );
    let rule = from_arn("arn:aws:events:us-east-1:1:rule/dev-bus/dev-r").unwrap();
    assert_eq!((rule.name.as_str(), rule.bus()), ("dev-r", "dev-bus"));
    let default = from_arn("arn:aws:events:us-east-1:1:rule/dev-r").unwrap();
    assert_eq!(default.bus(), "default");
    assert_eq!(
        k("arn:aws:sqs:us-east-1:1:dev-dlq").as_deref(),
        Some("queue dev-dlq")
    );
    assert_eq!(
        k("arn:aws:lambda:us-east-1:1:function:dev-fn:live").as_deref(),
        Some("function dev-fn")
    );
    assert_eq!(
        k("arn:aws:lambda:us-east-1:1:event-source-mapping:abc").as_deref(),
        Some("event-source-mapping abc")
    );
    assert_eq!(
        k("arn:aws:logs:us-east-1:1:log-group:/aws/lambda/dev-fn:*").as_deref(),
        Some("log-group /aws/lambda/dev-fn")
    );
    assert_eq!(k("arn:aws:s3:::bucket"), None);
    assert_eq!(k("not an arn"), None);
}

#[test]
fn what_uses_a_resource_is_deleted_before_it() {
    let mut all: Vec<Resource> = ResourceKind::all()
        .map(|k| Resource::new(k, "x", ""))
        .collect();
    all.reverse();
    deletion_order(&mut all);
    let position = |k: ResourceKind| all.iter().position(|r| r.kind == k).unwrap();
    for kind in ResourceKind::all() {
        for &first in of(kind).after() {
            assert!(
                position(first) < position(kind),
                "{first} must be deleted before {kind}"
            );
        }
    }
    assert!(position(ResourceKind::Target) < position(ResourceKind::Rule));
    assert!(position(ResourceKind::Rule) < position(ResourceKind::EventBus));
    assert!(position(ResourceKind::EventSourceMapping) < position(ResourceKind::Queue));
    assert!(position(ResourceKind::Function) < position(ResourceKind::Role));
}

#[test]
fn a_consumer_queue_found_by_its_arn_is_the_same_queue() {
    let consumer = Resource::new(ResourceKind::ConsumerQueue, "dev-inbox", "infrastructure");
    let found = from_arn("arn:aws:sqs:us-east-1:1:dev-inbox").unwrap();
    assert!(same_resource(&consumer, &found));
    assert!(holds(std::slice::from_ref(&consumer), &found));
    let other = Resource::new(ResourceKind::Rule, "dev-inbox", "");
    assert!(!same_resource(&consumer, &other));
}
