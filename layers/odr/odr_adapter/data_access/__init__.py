"""The only code that talks to AWS (boto3). Domain code receives these objects; it never imports boto3."""
