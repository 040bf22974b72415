"""A plugin that raises while being imported."""

raise RuntimeError("plugins_import_error: boom on import")
