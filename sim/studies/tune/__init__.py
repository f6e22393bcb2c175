"""Policy search with Optuna: the study, goals and racing, and search-space files.
"""
