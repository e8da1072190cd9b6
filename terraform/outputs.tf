# Outputs read by `deploy` with `terraform output -json`.

output "event_bus_name" {
  value = aws_cloudwatch_event_bus.this.name
}

output "event_bus_arn" {
  value = aws_cloudwatch_event_bus.this.arn
}

output "event_processor_role_arn" {
  value = aws_iam_role.processor.arn
}

output "event_publisher_role_arn" {
  value = aws_iam_role.publisher.arn
}

output "dlq_role_arn" {
  value = aws_iam_role.dlq.arn
}

output "dlq_url" {
  value = aws_sqs_queue.dlq.url
}

output "dlq_arn" {
  value = aws_sqs_queue.dlq.arn
}

output "dlq_name" {
  value = aws_sqs_queue.dlq.name
}

output "archive_name" {
  value = aws_cloudwatch_event_archive.this.name
}

output "archive_arn" {
  value = aws_cloudwatch_event_archive.this.arn
}

output "rule_names" {
  description = "Every route's rule name, ordered by route key."
  value       = [for k in sort(keys(var.routes)) : aws_cloudwatch_event_rule.this[k].name]
}

output "rule_arns" {
  description = "Rule name -> rule ARN."
  value       = { for k, r in aws_cloudwatch_event_rule.this : r.name => r.arn }
}

output "consumer_queue_urls" {
  description = "Queue name -> URL of the queues routes deliver to that this deployment made."
  value       = { for k, q in aws_sqs_queue.consumer : q.name => q.url }
}

output "consumer_queue_arns" {
  description = "Queue name -> ARN of those queues."
  value       = { for k, q in aws_sqs_queue.consumer : q.name => q.arn }
}

output "targets" {
  description = "\"<rule name>/<target id>\" -> target ARN, for the targets Terraform made."
  value = {
    for k, t in aws_cloudwatch_event_target.this : "${t.rule}/${t.target_id}" => t.arn
  }
}

output "role_names" {
  description = "Publisher, processor and DLQ role names (and the targets role when routes need it)."
  value = concat(
    [aws_iam_role.publisher.name, aws_iam_role.processor.name, aws_iam_role.dlq.name],
    aws_iam_role.targets[*].name,
  )
}

output "schema_registry_name" {
  description = "Schema registry name, or \"\" when the registry is disabled."
  value       = var.enable_schema_registry ? aws_schemas_registry.this[0].name : ""
}
