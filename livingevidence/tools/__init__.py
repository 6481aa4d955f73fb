"""Tools that are not stages of the build: start a project, import an extraction sheet, synthetic data, bench."""
