# The hub's routes, from deploy.toml (`[routes.*]`, written into terraform.tfvars.json by
# deploy): one rule each, and the targets Terraform makes for them. No route, rule or event type
# is named here. Lambda targets are wired by deploy's lambdas step, after the functions exist;
# the DLQ is a route target's dead-letter config, never a plain target.

resource "aws_cloudwatch_event_rule" "this" {
  for_each = var.routes

  name           = each.value.rule_name
  description    = each.value.description
  event_bus_name = aws_cloudwatch_event_bus.this.name
  event_pattern  = each.value.pattern
  state          = "ENABLED"
  tags           = local.tags
}

locals {
  # "<route>/<target id>" -> the target, with its route.
  route_targets = merge([
    for rk, r in var.routes : {
      for t in r.targets : "${rk}/${t.id}" => merge(t, { route = rk })
    }
  ]...)

  # State machines and other buses are reached through a role; queues through their policy.
  role_kinds   = ["state_machine_arn", "bus_arn"]
  role_targets = [for t in values(local.route_targets) : t.arn if contains(local.role_kinds, t.kind)]
}

resource "aws_cloudwatch_event_target" "this" {
  for_each = local.route_targets

  rule           = aws_cloudwatch_event_rule.this[each.value.route].name
  event_bus_name = aws_cloudwatch_event_bus.this.name
  target_id      = each.value.id
  # A queue of the stack (by its key) or an ARN given in deploy.toml.
  arn            = each.value.queue_key != null ? aws_sqs_queue.consumer[each.value.queue_key].arn : each.value.arn
  role_arn       = contains(local.role_kinds, each.value.kind) ? aws_iam_role.targets[0].arn : null

  dynamic "dead_letter_config" {
    for_each = each.value.dead_letter ? [1] : []
    content {
      arn = local.dlq_arn
    }
  }

  dynamic "retry_policy" {
    for_each = each.value.retry_attempts != null || each.value.max_event_age_seconds != null ? [1] : []
    content {
      maximum_retry_attempts       = each.value.retry_attempts
      maximum_event_age_in_seconds = each.value.max_event_age_seconds
    }
  }

  dynamic "input_transformer" {
    for_each = each.value.input_template != null ? [1] : []
    content {
      input_paths    = each.value.input_paths
      input_template = each.value.input_template
    }
  }
}
