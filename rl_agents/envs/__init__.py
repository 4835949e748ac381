"""Gymnasium environments wrapping the :mod:`nbody` integrators."""

ENV_ID = "adaptsim/ThreeBody-v0"


def register_envs() -> None:
    """Register :data:`ENV_ID` with Gymnasium (idempotent)."""
    import gymnasium

    if ENV_ID not in gymnasium.registry:
        gymnasium.register(id=ENV_ID, entry_point="rl_agents.envs.three_body:ThreeBodyEnv")
