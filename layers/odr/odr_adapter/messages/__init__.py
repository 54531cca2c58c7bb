"""Message texts, the channels that carry them (e-mail, SMS) and sending with its history."""
