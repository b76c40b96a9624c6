"""Real incidents: recorded so the schedule adds a tabletop after each one."""
