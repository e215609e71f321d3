"""The book's teaching aids: figures, diagrams, the channel explorer, tables, glue.

- ``plots``: chapters 1-3's figures from a channel plan or measured numbers;
- ``diagrams``: a stage drawn from the plan (``draw_stage``, ``draw_fusion_variants``);
- ``widgets``: the ipywidgets channel explorer;
- ``tables``: HTML tables that fit the page, with a plain-text twin;
- ``glue``: myst-nb's ``glue`` or a stand-in for Colab;
- ``readable``: how large a figure's text is on the page;
- ``palette``: the book's colours, chosen once;
- ``numbers``: ``pct`` (percent change) and ``percent_of``: the cells' small arithmetic;
- ``bench_plots``: chapter 6's figures; ``residual_plots``: chapter 7's.

May import anything below: ``bench``, the measuring tools, ``models`` and the core; matplotlib
and ipywidgets are imported here only, so ``import cspnet_lib`` stays light. Nothing here is
imported until used: ``from cspnet_lib.teach import plots``.
"""
