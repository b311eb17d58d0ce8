"""``arm-bench-build``: prompts → sampled responses → golden rewards → embeddings → the authors' .npy layout.

Each stage is its own module and checkpoint (``workdir.py``), so a stage can run alone and an
interrupted build resumes shard by shard. Heavy libraries are imported inside the stages.
"""
