"""The browser pages: GraphiQL on /graphql and Swagger UI on /docs, served with their own files.

Every file the pages load is shipped in `static/` (pinned versions from npm, see ide-assets/ at the
root of the repository) and named with its integrity hash, so opening either page asks no other host.
"""
