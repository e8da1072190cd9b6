# Archive of every custom.* event published to the bus.

resource "aws_cloudwatch_event_archive" "this" {
  name             = "${var.environment}-event-archive"
  description      = "Archive of custom.* events on ${var.event_bus_name}"
  event_source_arn = aws_cloudwatch_event_bus.this.arn
  retention_days   = var.archive_retention_days

  event_pattern = jsonencode({
    source = [{ prefix = "custom." }]
  })
}
