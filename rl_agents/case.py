"""The ``rl_train`` and ``rl_eval`` case kinds, and the fields every training kind shares (pydantic models; the
runners are :mod:`rl_agents.train_run` and :mod:`rl_agents.eval_run`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from adaptsim.cases import CaseModel, KindSpec, PositiveFloat, StrictModel
from nbody.integrators.table import CriterionName, IntegratorName, integrator_citations
from rl_agents.algorithms import ALGORITHMS_CONTRIB, ALGORITHMS_SB3, CONTINUOUS_ONLY, DISCRETE_ONLY, check_hyperparameters
from rl_agents.envs.config import EnvConfig
from rl_agents.normalization import FOLDABLE_ALGORITHMS
from rl_agents.policy_options import PolicyOptions


class HeldOutEvaluation(StrictModel):
    """Evaluation on held-out seeds during training."""

    seed_start: int = Field(100_000, ge=0, lt=2**31, description="First held-out seed (training seeds are drawn from the case seed).")
    n_seeds: int = Field(10, ge=1, le=100_000, description="Number of held-out seeds.")
    steps: int = Field(300, ge=1, le=100_000, description="Environment steps per evaluation episode.")
    every: int = Field(10_000, ge=1, description="Evaluate every this many environment steps.")


class AgentTrainingCase(CaseModel):
    """What every training case has: the algorithm, its network, how long, and the checkpoints (subclassed by each
    environment's training kind, which adds the environment and the evaluation during training)."""

    algorithm: str = Field(
        "DQN", description=f"SB3 ({', '.join(ALGORITHMS_SB3)}) or sb3-contrib ({', '.join(ALGORITHMS_CONTRIB)}) algorithm."
    )
    hyperparameters: dict[str, Any] = Field(
        default_factory=dict, description="Keyword arguments of the algorithm (learning_rate, buffer_size, ...)."
    )
    policy: PolicyOptions = PolicyOptions()
    normalize_observations: bool = Field(
        False,
        description=f"Train on observations normalized by their running mean and variance (SB3 VecNormalize; "
        f"{', '.join(FOLDABLE_ALGORITHMS)}); the saved agent has them folded into its first layers.",
    )
    total_timesteps: int = Field(100_000, ge=1, le=10**9, description="Environment steps to train for.")
    checkpoint_every: int = Field(
        20_000, ge=1, description="Save model (and replay buffer) every this many steps; a re-run resumes from the last one."
    )
    tensorboard: bool = Field(True, description="Write TensorBoard logs into the output folder.")

    @field_validator("algorithm")
    @classmethod
    def _known_algorithm(cls, value: str) -> str:
        if value not in ALGORITHMS_SB3 + ALGORITHMS_CONTRIB:
            raise ValueError(f"unknown algorithm {value!r}; one of {', '.join(ALGORITHMS_SB3 + ALGORITHMS_CONTRIB)}")
        return value

    def check_algorithm(self, discrete: bool, observation_size: int, action_field: str | None = None) -> None:
        """Raise ``ValueError`` when the algorithm does not fit the action type (naming ``action_field``, the case
        field that sets it, if any), a hyper-parameter is refused, the observations cannot be normalized for it, or
        its replay buffer does not fit in memory."""
        wanted = "discrete" if self.algorithm in DISCRETE_ONLY else "continuous" if self.algorithm in CONTINUOUS_ONLY else None
        if wanted is not None and (wanted == "discrete") != discrete:
            has = "discrete" if discrete else "continuous"
            raise ValueError(
                f"{self.algorithm} needs {action_field}: {wanted}"
                if action_field
                else f"{self.algorithm} needs {wanted} actions, not {has}"
            )
        if self.normalize_observations and self.algorithm not in FOLDABLE_ALGORITHMS:
            raise ValueError(f"normalize_observations needs one of {', '.join(FOLDABLE_ALGORITHMS)}, not {self.algorithm}")
        check_hyperparameters(self.algorithm, self.hyperparameters)
        self._check_buffer_memory(observation_size)

    def _check_buffer_memory(self, observation_size: int) -> None:
        """Refuse a replay buffer that does not fit in memory (observations and next observations in float32)."""
        import inspect

        from adaptsim.memory import check_memory
        from rl_agents.algorithms import algorithm_class

        default = inspect.signature(algorithm_class(self.algorithm)).parameters.get("buffer_size")
        if default is None:
            return
        size = int(self.hyperparameters.get("buffer_size", default.default))
        per_transition = 2 * 4 * observation_size + 8 + 3 * 4
        check_memory(size * per_transition, f"hyperparameters.buffer_size: {size} transitions")


class RLTrainCase(AgentTrainingCase):
    """Train an agent that picks the integrator parameter (Stable-Baselines3)."""

    kind: Literal["rl_train"]
    env: EnvConfig = EnvConfig()
    n_envs: int = Field(2, ge=1, le=256, description="Parallel environments.")
    vec_env: Literal["subproc", "dummy", "native"] = Field(
        "subproc",
        description="`subproc`: one process per environment; `dummy`: one by one in this process; `native`: one vector env on the batch engine.",
    )
    evaluation: HeldOutEvaluation = HeldOutEvaluation()

    @model_validator(mode="after")
    def _check_compatibility(self) -> RLTrainCase:
        self.check_algorithm(self.env.action == "discrete", self.env.observation_size, "env.action")
        return self


class Transfer(StrictModel):
    """A second integrator driven by the same agent: action k selects ``parameters[k]``."""

    integrator: IntegratorName
    criterion: CriterionName = "collision"
    parameters: list[PositiveFloat] = Field(min_length=1, max_length=256, description="One value per action of the agent.")


class RLEvalCase(CaseModel):
    """Evaluate an agent against every fixed parameter on held-out seeds."""

    kind: Literal["rl_eval"]
    env: EnvConfig = EnvConfig()
    model: Path = Field(description="Trained agent (.zip written by an rl_train case; read without unpickling anything).")
    seed_start: int = Field(100_000, ge=0, lt=2**31, description="First held-out seed.")
    n_seeds: int = Field(100, ge=1, le=100_000, description="Number of held-out seeds.")
    steps: int = Field(300, ge=1, le=100_000, description="Environment steps per run.")
    examples: int = Field(3, ge=0, le=20, description="Trajectories shown in the example plot.")
    transfer: Transfer | None = Field(None, description="Evaluate the agent on this integrator too.")

    @field_validator("model")
    @classmethod
    def _model_fits(cls, value: Path, info: ValidationInfo) -> Path:
        if value.is_dir():
            raise ValueError(f"{str(value)!r} is a folder, not an agent file")
        if not value.is_file():
            raise ValueError(f"file {str(value)!r} does not exist")
        env = info.data.get("env")
        if env is not None:
            from rl_agents.saved_agents import check_saved_spaces  # builds the environment: nbody and Numba

            check_saved_spaces(value, env)
        return value

    @model_validator(mode="after")
    def _check_actions(self) -> RLEvalCase:
        if self.transfer is not None and len(self.transfer.parameters) != len(self.env.parameters):
            raise ValueError(
                f"transfer.parameters needs {len(self.env.parameters)} values, one per action, got {len(self.transfer.parameters)}"
            )
        return self


TRAIN_KIND = KindSpec(
    name="rl_train",
    model=RLTrainCase,
    runner="rl_agents.train_run:run",
    summary="Train an agent that chooses the three-body integrator's time-step parameter.",
    smoke_overrides=(
        "total_timesteps=400",
        "n_envs=1",
        "vec_env=dummy",
        "evaluation.n_seeds=2",
        "evaluation.steps=20",
        "evaluation.every=200",
        "checkpoint_every=200",
    ),
    citations="rl_agents.case:train_citations",
)
EVAL_KIND = KindSpec(
    name="rl_eval",
    model=RLEvalCase,
    runner="rl_agents.eval_run:run",
    summary="Agent against every fixed parameter: accuracy/cost front, trajectories, transfer.",
    smoke_overrides=("n_seeds=3", "steps=20", "examples=1"),
    citations="rl_agents.case:eval_citations",
)


def _environment_citations(env: EnvConfig) -> list[str]:
    return ["rl_three_body", "gymnasium", "stable_baselines3", *integrator_citations(env.integrator, env.criterion)]


def agent_citations(case: AgentTrainingCase) -> list[str]:
    """Reference keys of a training case's agent: the algorithm, optimizer and regulariser."""
    policy = case.policy
    return [
        case.algorithm,
        *([policy.optimizer] if policy.optimizer != "sgd" else []),
        *(["orthogonal_init"] if policy.orthogonal_init else []),
        *(["orthogonal_conv"] if policy.orthogonality_weight > 0 else []),
    ]


def train_citations(case: RLTrainCase) -> list[str]:
    """Reference keys of a training case: the environment, its integrator and the agent."""
    return [*_environment_citations(case.env), *agent_citations(case)]


def eval_citations(case: RLEvalCase) -> list[str]:
    """Reference keys of an evaluation case: the environment, its integrator and the transfer integrator."""
    transfer = integrator_citations(case.transfer.integrator, case.transfer.criterion) if case.transfer else []
    return [*_environment_citations(case.env), *transfer]
