"""musebench.leaderboard."""
