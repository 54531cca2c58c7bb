"""Message texts, the channels that carry them (e-mail, SMS), sending with its history, and the secure action
links a message carries."""
