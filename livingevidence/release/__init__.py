"""Living and citable: data versions, release history, diffs, citations, the Atom feed and deployment.

- ``semver``: data versions and the bump a change needs.
- ``sources``: a data package from a directory or from a git ref (``git archive``), and the default base ref.
- ``diff``: what changed between two packages: studies, rows, every value, and the pooled results that moved.
- ``history``: ``datapackage/releases.json``, the release history that the what's-new pages, the comparison
  history sections and the feed are built from (reproducible without git).
- ``check``: ``build.py release-check``: data changed without the right version bump is an error.
- ``cite``: citation text, BibTeX, RIS, CSL-JSON, Highwire meta tags and schema.org JSON-LD for every page.
- ``feed``: the Atom feed of releases.
- ``deploy``: versioned snapshots on the gh-pages branch (mike's ``versions.json``), never rewritten.
- ``ci``: GitHub annotations and the job summary from the JSON reports.
"""
