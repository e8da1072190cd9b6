# SQS dead-letter queue for the bus's rule targets.
#
# The queue policy is inline (the `policy` argument), not a separate
# aws_sqs_queue_policy: the provider waits ~25 s after each SQS attribute
# change, so a second resource would double that wait.

data "aws_iam_policy_document" "dlq" {
  statement {
    sid       = "AllowEventBridgeRulesOfThisBus"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [local.dlq_arn]

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

resource "aws_sqs_queue" "dlq" {
  name                      = var.dlq_name
  message_retention_seconds = var.dlq_retention_seconds
  # Failed events carry whatever their producers put in them: encrypted at rest (SQS-managed
  # keys: no KMS key to manage or pay for, and EventBridge may send to it without KMS grants).
  sqs_managed_sse_enabled = true
  policy                  = data.aws_iam_policy_document.dlq.json
  tags                    = local.tags
}
