"""The only code that talks to AWS (boto3): one adapter per port of ports.py; it depends on models and ports only."""
