"""The references of the methods in the suite, and which of them a case uses (``adaptsim cite CASE.yaml``).

Each kind names the function that lists the keys of the methods its case uses (``KindSpec.citations``);
this module holds the references themselves, grouped by topic in the order the README lists them (the
README's reference list is generated from :data:`REFERENCES` by :mod:`adaptsim.docs`).
"""

from __future__ import annotations

from typing import Any

#: topic -> {key: reference in Markdown}
REFERENCES: dict[str, dict[str, str]] = {
    "Three-body dynamics": {
        "hermite": "J. Makino, S. J. Aarseth (1992). On a Hermite integrator with Ahmad-Cohen scheme for gravitational many-body problems. *PASJ* 44, 141.",
        "collision_time": "S. Portegies Zwart, S. McMillan (2018). *Astrophysical Recipes: the Art of AMUSE*. IOP Publishing (the collision-time step criterion of AMUSE's Hermite).",
        "leapfrog": 'L. Verlet (1967). Computer "experiments" on classical fluids. I. Thermodynamical properties of Lennard-Jones molecules. *Phys. Rev.* 159, 98 (kick-drift-kick leapfrog).',
        "dormand_prince": "J. R. Dormand, P. J. Prince (1980). A family of embedded Runge-Kutta formulae. *J. Comput. Appl. Math.* 6, 19.",
        "ias15": "H. Rein, D. S. Spiegel (2015). IAS15: a fast, adaptive, high-order integrator for gravitational dynamics. *MNRAS* 446, 1424; D. Pham, H. Rein, D. S. Spiegel (2024). Higher-order adaptive time-stepping for IAS15. arXiv:2401.02849.",
        "logh_leapfrog": "S. Mikkola, K. Tanikawa (1999). Algorithmic regularization of the few-body problem. *MNRAS* 310, 745; M. Preto, S. Tremaine (1999). A class of symplectic integrators with adaptive time step for separable Hamiltonian systems. *AJ* 118, 2532.",
        "chain_coordinates": "S. Mikkola, S. J. Aarseth (1993). An implementation of N-body chain regularization. *Celest. Mech. Dyn. Astron.* 57, 439; S. Mikkola, D. Merritt (2008). Implementing few-body algorithmic regularization with post-Newtonian terms. *AJ* 135, 2398 (AR-CHAIN).",
        "bulirsch_stoer": "R. Bulirsch, J. Stoer (1966). Numerical treatment of ordinary differential equations by extrapolation methods. *Numer. Math.* 8, 1; E. Hairer, S. P. Norsett, G. Wanner (1993). *Solving Ordinary Differential Equations I*, II.9 (order and step-size control).",
        "figure_eight": "A. Chenciner, R. Montgomery (2000). A remarkable periodic solution of the three-body problem in the case of equal masses. *Ann. Math.* 152, 881; C. Simó (2002), initial conditions of the figure-eight.",
        "pythagorean": "V. Szebehely, C. F. Peters (1967). Complete solution of a general problem of three bodies. *AJ* 72, 876.",
        "lagrange": "J.-L. Lagrange (1772). Essai sur le problème des trois corps. *Prix de l'Académie royale des sciences de Paris* 9.",
        "rebound": "H. Rein, S.-F. Liu (2012). REBOUND: an open-source multi-purpose N-body code. *A&A* 537, A128 (the reference code of the tests and benchmark).",
    },
    "Learned time-stepping": {
        "rl_three_body": "V. Saz Ulibarrena, S. Portegies Zwart (2025). Reinforcement learning for adaptive time-stepping in the chaotic gravitational three-body problem. *Commun. Nonlinear Sci. Numer. Simul.*; arXiv:2502.12809.",
        "gymnasium": "M. Towers et al. (2024). Gymnasium: a standard interface for reinforcement learning environments. arXiv:2407.17032.",
        "stable_baselines3": "A. Raffin, A. Hill, A. Gleave, A. Kanervisto, M. Ernestus, N. Dormann (2021). Stable-Baselines3: reliable reinforcement learning implementations. *JMLR* 22(268), 1.",
        "DQN": "V. Mnih et al. (2015). Human-level control through deep reinforcement learning. *Nature* 518, 529 (DQN).",
        "A2C": "V. Mnih et al. (2016). Asynchronous methods for deep reinforcement learning. *ICML* (A2C/A3C).",
        "PPO": "J. Schulman, F. Wolski, P. Dhariwal, A. Radford, O. Klimov (2017). Proximal policy optimization algorithms. arXiv:1707.06347.",
        "SAC": "T. Haarnoja, A. Zhou, P. Abbeel, S. Levine (2018). Soft actor-critic: off-policy maximum entropy deep reinforcement learning with a stochastic actor. *ICML*.",
        "TD3": "S. Fujimoto, H. van Hoof, D. Meger (2018). Addressing function approximation error in actor-critic methods. *ICML* (TD3).",
        "DDPG": "T. P. Lillicrap et al. (2016). Continuous control with deep reinforcement learning. *ICLR* (DDPG).",
        "ARS": "H. Mania, A. Guy, B. Recht (2018). Simple random search of static linear policies is competitive for reinforcement learning. *NeurIPS* (ARS).",
        "CrossQ": "A. Bhatt et al. (2024). CrossQ: batch normalization in deep reinforcement learning for greater sample efficiency and simplicity. *ICLR*.",
        "QRDQN": "W. Dabney, M. Rowland, M. G. Bellemare, R. Munos (2018). Distributional reinforcement learning with quantile regression. *AAAI* (QR-DQN).",
        "TQC": "A. Kuznetsov, P. Shvechikov, A. Grishin, D. Vetrov (2020). Controlling overestimation bias with truncated mixture of continuous distributional quantile critics. *ICML* (TQC).",
        "TRPO": "J. Schulman, S. Levine, P. Abbeel, M. Jordan, P. Moritz (2015). Trust region policy optimization. *ICML*.",
        "MaskablePPO": "S. Huang, S. Ontañón (2022). A closer look at invalid action masking in policy gradient algorithms. *FLAIRS* 35.",
        "RecurrentPPO": "S. Hochreiter, J. Schmidhuber (1997). Long short-term memory. *Neural Comput.* 9(8), 1735 (the LSTM policy of RecurrentPPO).",
        "adamp": "B. Heo et al. (2021). AdamP: slowing down the slowdown for momentum optimizers on scale-invariant weights. *ICLR*.",
        "adam": "D. P. Kingma, J. Ba (2015). Adam: a method for stochastic optimization. *ICLR*.",
    },
    "Orthogonality": {
        "reorthogonalization": "L. Giraud, J. Langou, M. Rozloznik (2005). The loss of orthogonality in the Gram-Schmidt orthogonalization process. *Comput. Math. Appl.* 50, 1069.",
        "cholesky_qr2": "T. Fukaya, Y. Nakatsukasa, Y. Yanagisawa, Y. Yamamoto (2014). CholeskyQR2: a simple and communication-avoiding algorithm for computing a tall-skinny QR factorization. *ScalA'14*; T. Fukaya et al. (2020). Shifted Cholesky QR for computing the QR factorization of ill-conditioned matrices. *SIAM J. Sci. Comput.* 42(1), A477.",
        "householder": "A. S. Householder (1958). Unitary triangularization of a nonsymmetric matrix. *J. ACM* 5(4), 339.",
        "random_orthogonal": "F. Mezzadri (2007). How to generate random matrices from the classical compact groups. *Notices AMS* 54, 592.",
        "orthogonal_init": "L. Xiao, Y. Bahri, J. Sohl-Dickstein, S. Schoenholz, J. Pennington (2018). Dynamical isometry and a mean field theory of CNNs. *ICML* (orthogonal and delta-orthogonal initialisation).",
        "orthogonal_conv": "J. Wang, Y. Chen, R. Chakraborty, S. X. Yu (2020). Orthogonal convolutional neural networks. *CVPR*; E. M. Achour, F. Malgouyres, F. Mamalet (2022). Existence, stability and scalability of orthogonal convolutional neural networks. *JMLR* 23; H. Sedghi, V. Gupta, P. M. Long (2019). The singular values of convolutional layers. *ICLR*.",
    },
    "Turbine blade and reduced-order model": {
        "viscoplasticity": "J. Lemaitre, J.-L. Chaboche (1990). *Mechanics of Solid Materials*. Cambridge University Press (Norton flow with threshold, Armstrong-Frederick kinematic hardening).",
        "return_mapping": "J. C. Simo, T. J. R. Hughes (1998). *Computational Inelasticity*. Springer (implicit integration, consistent tangent).",
        "pardiso": "O. Schenk, K. Gärtner (2004). Solving unsymmetric sparse systems of linear equations with PARDISO. *Future Gener. Comput. Syst.* 20(3), 475.",
        "petsc": "S. Balay et al. (2024). PETSc/TAO Users Manual, ANL-21/39 Rev. 3.21, Argonne National Laboratory; L. Dalcin, P. Kler, R. Paz, A. Cosimo (2011). Parallel distributed computing using Python (petsc4py). *Adv. Water Resour.* 34(9), 1124.",
        "gamg": "M. F. Adams, H. H. Bayraktar, T. M. Keaveny, P. Papadopoulos (2004). Ultrascalable implicit finite element analyses in solid mechanics with over a half a billion degrees of freedom (smoothed aggregation with rigid-body modes). *SC'04*.",
        "scikit_fem": "T. Gustafsson, G. D. McBain (2020). scikit-fem: a Python package for finite element assembly. *JOSS* 5(52), 2369 (the reference of the finite-element tests and benchmark).",
        "elasticity_solutions": "S. P. Timoshenko, J. N. Goodier (1970). *Theory of Elasticity*, 3rd ed. McGraw-Hill (Lamé cylinder, rotating disks).",
        "adaptive_rom": "F. Casenave, N. Akkari (2019). An error indicator-based adaptive reduced order model for nonlinear structural mechanics - application to high-pressure turbine blades. *Math. Comput. Appl.* 24(2), 41.",
        "distributed_rom": "F. Casenave, N. Akkari, F. Bordeu, C. Rey, D. Ryckelynck (2020). A nonintrusive distributed reduced-order modeling framework for nonlinear structural mechanics - application to elastoviscoplastic computations. *IJNME* 121, 32; arXiv:1812.07228.",
        "pod_snapshots": "L. Sirovich (1987). Turbulence and the dynamics of coherent structures (method of snapshots). *Q. Appl. Math.* 45, 561.",
        "pymor": "R. Milk, S. Rave, F. Schindler (2016). pyMOR - generic algorithms and interfaces for model order reduction. *SIAM J. Sci. Comput.* 38(5), S194 (the reference of the POD test).",
        "ecm": "J. A. Hernández, M. A. Caicedo, A. Ferrer (2017). Dimensional hyper-reduction of nonlinear finite element models via empirical cubature. *CMAME* 313, 687.",
        "qdeim": "Z. Drmač, S. Gugercin (2016). A new selection operator for the discrete empirical interpolation method - improved a priori error bound and extensions (QDEIM). *SIAM J. Sci. Comput.* 38(2), A631.",
        "gappy_pod": "R. Everson, L. Sirovich (1995). Karhunen-Loève procedure for gappy data. *J. Opt. Soc. Am. A* 12(8), 1657.",
        "tsqr": "J. Demmel, L. Grigori, M. Hoemmen, J. Langou (2012). Communication-optimal parallel and sequential QR and LU factorizations. *SIAM J. Sci. Comput.* 34(1), A206 (TSQR).",
        "metis": "G. Karypis, V. Kumar (1998). A fast and high quality multilevel scheme for partitioning irregular graphs. *SIAM J. Sci. Comput.* 20(1), 359 (METIS).",
    },
}

_ALL = {key: text for group in REFERENCES.values() for key, text in group.items()}


def reference(key: str) -> str:
    """The reference of one method key (``KeyError`` for an unknown key)."""
    return _ALL[key]


def case_references(loaded: Any) -> list[str]:
    """The references of the methods a validated case uses, in the order its kind lists them (no repeats)."""
    keys = loaded.spec.load_citations()(loaded.case) if loaded.spec.citations else []
    return [reference(key) for key in dict.fromkeys(keys)]
