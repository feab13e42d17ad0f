"""Reading landing-zone files and validating them with Pandera, quarantining bad rows."""
