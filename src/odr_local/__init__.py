"""The local stack: AWS emulation (moto server) built from template.yaml, running the real handlers in-process."""
