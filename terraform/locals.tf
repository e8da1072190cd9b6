# Derived names, tags and ARNs shared by several files.

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  # The deployment's identity, so that what it owns can be proven by tags: IAM roles are
  # global, and Region tells which regional deployment of a project/environment owns one.
  tags = merge(var.tags, {
    Project     = var.project_name
    Environment = var.environment
    Region      = var.region
    ManagedBy   = "deploy"
  })

  # Built from strings, not from aws_sqs_queue.dlq.arn: the queue policy can then
  # be given inline at creation, and the IAM policies naming the queue need not
  # wait ~25 s for the queue's attribute propagation check.
  dlq_arn = "arn:${local.partition}:sqs:${var.region}:${local.account_id}:${var.dlq_name}"

  # Every rule on this bus, for the DLQ's aws:SourceArn condition.
  bus_rules_arn_pattern = "arn:${local.partition}:events:${var.region}:${local.account_id}:rule/${var.event_bus_name}/*"

  lambda_log_group_arn = "arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:/aws/lambda/${var.environment}-*"

}
