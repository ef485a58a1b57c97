"""Running parcours: the command line, and later the HTTP API, metrics and deployment configs."""
