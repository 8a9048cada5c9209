"""The one user step that the job, the evaluation harness, the benchmarks and the server share
(userstep/step.py), and the serving side of it (userstep/serve.py)."""
