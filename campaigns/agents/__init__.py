"""Agents: the state machine, the services the console calls (ready, pause, disposition ...), the agent's screen, the
nailed-up lines of browser agents and preview dialing."""
