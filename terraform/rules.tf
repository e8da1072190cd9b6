# Routing rules on the custom bus. Terraform creates no targets: the `deploy`
# lambdas step attaches the logger Lambda to the logger rule, with the DLQ as
# its dead-letter config (the DLQ is never a plain target).

locals {
  # Ordered list: rule_names keeps this order.
  rule_keys = [
    "audio-uploaded-to-transcription",
    "transcription-completed-to-search",
    "transcription-completed-to-notifications",
    "document-uploaded-to-ocr",
    "video-uploaded-to-thumbnail",
    "user-registered-to-welcome",
    "all-events-to-logger",
  ]

  rules = {
    "audio-uploaded-to-transcription" = {
      description = "Audio uploads to the transcription service"
      pattern = {
        source        = ["custom.upload-service"]
        "detail-type" = ["Audio Uploaded"]
      }
    }
    "transcription-completed-to-search" = {
      description = "Completed transcriptions to search indexing"
      pattern = {
        source        = ["custom.transcription-service"]
        "detail-type" = ["Transcription Completed"]
        detail        = { status = ["completed"] }
      }
    }
    "transcription-completed-to-notifications" = {
      description = "Completed transcriptions to user notifications"
      pattern = {
        source        = ["custom.transcription-service"]
        "detail-type" = ["Transcription Completed"]
      }
    }
    "document-uploaded-to-ocr" = {
      description = "PDF document uploads to OCR"
      pattern = {
        source        = ["custom.upload-service"]
        "detail-type" = ["Document Uploaded"]
        detail        = { metadata = { format = ["pdf"] } }
      }
    }
    "video-uploaded-to-thumbnail" = {
      description = "Video uploads to thumbnail generation"
      pattern = {
        source        = ["custom.upload-service"]
        "detail-type" = ["Video Uploaded"]
      }
    }
    "user-registered-to-welcome" = {
      description = "New users to the welcome flow"
      pattern = {
        source        = ["custom.auth-service"]
        "detail-type" = ["User Registered"]
      }
    }
    "all-events-to-logger" = {
      description = "Every custom.* event to the event logger"
      pattern = {
        source = [{ prefix = "custom." }]
      }
    }
  }
}

resource "aws_cloudwatch_event_rule" "this" {
  for_each = local.rules

  name           = "${var.environment}-${each.key}"
  description    = each.value.description
  event_bus_name = aws_cloudwatch_event_bus.this.name
  event_pattern  = jsonencode(each.value.pattern)
  state          = "ENABLED"
  tags           = local.tags
}
