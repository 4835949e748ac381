"""Gymnasium environments wrapping the :mod:`nbody` integrators."""

ENV_ID = "adaptsim/ThreeBody-v0"
#: The target-accuracy environment: the integrator and its parameter per interval (:mod:`.target`).
TARGET_ENV_ID = "adaptsim/ThreeBodyTarget-v0"


def register_envs() -> None:
    """Register :data:`ENV_ID` and :data:`TARGET_ENV_ID` with Gymnasium (idempotent)."""
    import gymnasium

    if ENV_ID not in gymnasium.registry:
        gymnasium.register(
            id=ENV_ID,
            entry_point="rl_agents.envs.three_body:ThreeBodyEnv",
            vector_entry_point="rl_agents.envs.three_body_vector:ThreeBodyVectorEnv",
        )
    if TARGET_ENV_ID not in gymnasium.registry:
        gymnasium.register(
            id=TARGET_ENV_ID,
            entry_point="rl_agents.envs.target:TargetAccuracyEnv",
            vector_entry_point="rl_agents.envs.target_vector:TargetAccuracyVectorEnv",
        )
