# Optional schema registry: one JSONSchemaDraft4 schema per *.schema.json file.
#
# HCL evaluates both arms of a conditional, so the directory handed to fileset()
# is itself switched: with the registry disabled nothing under schemas_dir is
# read (path.module holds only .tf files, so that glob finds nothing).

locals {
  schema_glob_dir = var.enable_schema_registry ? var.schemas_dir : path.module

  # key: file name without ".schema.json" (e.g. "audio-uploaded")
  schema_files = var.enable_schema_registry ? {
    for f in fileset(local.schema_glob_dir, "*.schema.json") :
    trimsuffix(f, ".schema.json") => f
  } : {}
}

resource "aws_schemas_registry" "this" {
  count = var.enable_schema_registry ? 1 : 0

  name        = var.schema_registry_name
  description = "Event schemas of ${var.project_name} (${var.environment})"
  tags        = local.tags

  lifecycle {
    precondition {
      condition     = startswith(var.schemas_dir, "/") && length(local.schema_files) > 0
      error_message = "enable_schema_registry is true but schemas_dir (\"${var.schemas_dir}\") is not an absolute path to a directory holding *.schema.json files."
    }
  }
}

resource "aws_schemas_schema" "this" {
  for_each = local.schema_files

  # "audio-uploaded" -> "AudioUploaded"
  name          = join("", [for w in split("-", each.key) : title(w)])
  registry_name = aws_schemas_registry.this[0].name
  type          = "JSONSchemaDraft4"
  description   = "JSON Schema of the ${each.key} event"
  content       = file("${var.schemas_dir}/${each.value}")
  tags          = local.tags
}
