# IAM roles of the hub. Every permission is scoped to this stack's resources.

locals {
  role_names = {
    publisher = "${var.environment}-event-publisher-role"
    processor = "${var.environment}-event-processor-role"
    dlq       = "${var.environment}-eventbridge-dlq-role"
  }
}

# --- event publisher: principals of this account (and Lambda) that publish to the bus

data "aws_iam_policy_document" "publisher_trust" {
  statement {
    sid     = "AccountPrincipals"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid     = "Lambda"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "publisher" {
  statement {
    sid       = "PutEventsOnThisBus"
    actions   = ["events:PutEvents"]
    resources = [aws_cloudwatch_event_bus.this.arn]
  }
}

resource "aws_iam_role" "publisher" {
  name               = local.role_names.publisher
  description        = "Publishes events to ${var.event_bus_name}"
  assume_role_policy = data.aws_iam_policy_document.publisher_trust.json
  tags               = local.tags
}

resource "aws_iam_role_policy" "publisher" {
  name   = "put-events"
  role   = aws_iam_role.publisher.id
  policy = data.aws_iam_policy_document.publisher.json
}

# --- event processor: execution role of the stack's Lambda functions

data "aws_iam_policy_document" "lambda_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "processor" {
  statement {
    sid = "OwnLogGroups"
    actions = [
      "logs:CreateLogGroup",
      "logs:CreateLogStream",
      "logs:PutLogEvents",
    ]
    resources = [
      local.lambda_log_group_arn,
      "${local.lambda_log_group_arn}:*",
    ]
  }

  statement {
    # The on-failure destination of the functions' asynchronous invocations: Lambda sends a
    # failed invocation's record to the queue with the function's own role.
    sid       = "AsyncFailuresToDeadLetterQueue"
    actions   = ["sqs:SendMessage"]
    resources = [local.dlq_arn]
  }

  statement {
    sid = "ConsumeDeadLetterQueue"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
    ]
    resources = [local.dlq_arn]
  }

  statement {
    sid       = "PutEventsOnThisBus"
    actions   = ["events:PutEvents"]
    resources = [aws_cloudwatch_event_bus.this.arn]
  }
}

resource "aws_iam_role" "processor" {
  name               = local.role_names.processor
  description        = "Execution role of the ${var.environment} event Lambdas"
  assume_role_policy = data.aws_iam_policy_document.lambda_trust.json
  tags               = local.tags
}

resource "aws_iam_role_policy" "processor" {
  name   = "event-processing"
  role   = aws_iam_role.processor.id
  policy = data.aws_iam_policy_document.processor.json
}

# --- EventBridge -> DLQ: lets EventBridge deliver failed events to the queue

data "aws_iam_policy_document" "events_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "dlq_send" {
  statement {
    sid       = "SendToDeadLetterQueue"
    actions   = ["sqs:SendMessage"]
    resources = [local.dlq_arn]
  }
}

resource "aws_iam_role" "dlq" {
  name               = local.role_names.dlq
  description        = "Lets EventBridge send undeliverable events to ${var.dlq_name}"
  assume_role_policy = data.aws_iam_policy_document.events_trust.json
  tags               = local.tags
}

resource "aws_iam_role_policy" "dlq" {
  name   = "send-to-dlq"
  role   = aws_iam_role.dlq.id
  policy = data.aws_iam_policy_document.dlq_send.json
}

# --- EventBridge -> state machines and other buses named as route targets

resource "aws_iam_role" "targets" {
  count = length(local.role_targets) > 0 ? 1 : 0

  name               = "${var.environment}-eventbridge-targets-role"
  description        = "Lets EventBridge deliver the routes of ${var.event_bus_name} to state machines and buses"
  assume_role_policy = data.aws_iam_policy_document.events_trust.json
  tags               = local.tags
}

data "aws_iam_policy_document" "targets" {
  count = length(local.role_targets) > 0 ? 1 : 0

  dynamic "statement" {
    for_each = [for a in local.role_targets : a if startswith(a, "arn:${local.partition}:states:")]
    content {
      actions   = ["states:StartExecution"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = [for a in local.role_targets : a if startswith(a, "arn:${local.partition}:events:")]
    content {
      actions   = ["events:PutEvents"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "targets" {
  count = length(local.role_targets) > 0 ? 1 : 0

  name   = "deliver-to-targets"
  role   = aws_iam_role.targets[0].id
  policy = data.aws_iam_policy_document.targets[0].json
}
