"""Label Studio: run the server, generate the labelling interface, push weak labels, pull annotations.

The server runs from the ``label-studio`` package (optional extra ``server``) with its data in
``WORKSPACE/label-studio/``. Its admin account and API token are generated on first start
and kept in ``WORKSPACE/label-studio/credentials.json`` (mode 0600); other commands read
them from there unless ``LABEL_STUDIO_URL`` and ``LABEL_STUDIO_API_KEY`` are set.

Tasks carry the sentence id in ``data.sentence_id``; pushes look tasks up by it, so a push
can be repeated (or resumed after a failure) without creating duplicates. A push with the
human layer also marks each task it sends a human annotation to (``meta.eventds_human``).

A pull merges the export into the human layer in ``annotations/`` (see
:func:`builder.studio.export.merge_human_layer`) and replaces its files as one step
(:mod:`builder.swap`), keeping the files it replaced in ``annotations/.previous/``.

The package exports nothing itself: import from its modules. Pure conversions, which talk to
no server and can be tested (and property-tested) alone, each module importing only those
above it:

* :mod:`~builder.studio.offsets`: offsets between Python code points and Label Studio's unit;
* :mod:`~builder.studio.interface`: the label set as the labelling interface needs it, and
  its XML config;
* :mod:`~builder.studio.results`: Label Studio result items -> events, with every check;
* :mod:`~builder.studio.tasks`: sentence records -> tasks, predictions and human
  annotations, and their checks before sending;
* :mod:`~builder.studio.export`: an export -> the human layer, and merging a pull into it;
* :mod:`~builder.studio.instructions`: the guidelines as the project's instructions (HTML);
* :mod:`~builder.studio.priority`: which task to annotate next (``data.priority``).

Talking to a server:

* :mod:`~builder.studio.credentials`: the workspace's admin account and API token;
* :mod:`~builder.studio.server`: starting, waiting for and stopping the server process;
* :mod:`~builder.studio.client`: a small REST client;
* :mod:`~builder.studio.project`: creating the project or updating its config without
  orphaning annotations;
* :mod:`~builder.studio.push`: records -> tasks, predictions (and human annotations);
* :mod:`~builder.studio.pull`: the export -> the human layer in ``annotations/``;
* :mod:`~builder.studio.backend`: the ML backend's model and state: predictions for any
  task, retraining on every correction, priorities refreshed;
* :mod:`~builder.studio.serving`: the ML backend's HTTP API (``eventds annotate backend``).
"""
