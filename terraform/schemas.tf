# Optional schema registry, from the event types' versioned contracts (var.schemas, written by
# deploy from schemas/<event>/vN.json; empty when the registry is off, so nothing is read).
#
# Each event type has one schema under its own name holding the latest version (the registry
# keeps every change of it as a registry version), and one schema per contract version,
# "<Name>-v<N>", so that every version is in the registry even on a fresh deploy.

locals {
  # "<event>/v<N>" -> the version's schema name and file.
  schema_versions = {
    for v in flatten([
      for ek, s in var.schemas : [
        for n, file in s.versions : { key = "${ek}/v${n}", name = "${s.name}-v${n}", event = ek, file = file }
      ]
    ]) : v.key => v
  }

  # Event type -> the file of its highest version.
  schema_latest = {
    for ek, s in var.schemas : ek => s.versions[tostring(max([for n in keys(s.versions) : tonumber(n)]...))]
  }
}

resource "aws_schemas_registry" "this" {
  count = var.enable_schema_registry ? 1 : 0

  name        = var.schema_registry_name
  description = "Event schemas of ${var.project_name} (${var.environment})"
  tags        = local.tags
}

resource "aws_schemas_schema" "this" {
  for_each = var.schemas

  name          = each.value.name
  registry_name = aws_schemas_registry.this[0].name
  type          = "JSONSchemaDraft4"
  description   = "JSON Schema of the ${each.key} event (latest version)"
  content       = file(local.schema_latest[each.key])
  tags          = local.tags
}

resource "aws_schemas_schema" "version" {
  for_each = local.schema_versions

  name          = each.value.name
  registry_name = aws_schemas_registry.this[0].name
  type          = "JSONSchemaDraft4"
  description   = "JSON Schema of the ${each.value.event} event, contract version ${each.key}"
  content       = file(each.value.file)
  tags          = local.tags
}
