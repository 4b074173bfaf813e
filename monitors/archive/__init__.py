"""Public archives of ICE's lists (the Wayback Machine, git repositories that scrape them): what they yield."""
