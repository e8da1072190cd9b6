# Queues routes deliver to that this deployment creates (`targets = [{ sqs = "<key>" }]`).

data "aws_iam_policy_document" "consumer" {
  for_each = var.consumer_queues

  statement {
    sid       = "AllowEventBridgeRulesOfThisBus"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = ["arn:${local.partition}:sqs:${var.region}:${local.account_id}:${each.value}"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.bus_rules_arn_pattern]
    }
  }
}

resource "aws_sqs_queue" "consumer" {
  for_each = var.consumer_queues

  name                    = each.value
  sqs_managed_sse_enabled = true
  policy                  = data.aws_iam_policy_document.consumer[each.key].json
  tags                    = local.tags
}
