"""The trainer app: a network running live in the browser, for workshops.

- :mod:`nlcsim.app.page`: the Mesa SolaraViz page (``nlcsim app``).
- :mod:`nlcsim.app.trainer`: the settings behind its controls and the model it steps.
- :mod:`nlcsim.app.layout`: where schools and teachers are drawn (computed once).
- :mod:`nlcsim.app.draw`: the network view, the live plots, slides (``save_png``).
- :mod:`nlcsim.app.animate`: ``nlcsim animate``, a run as a GIF or MP4.
- :mod:`nlcsim.app.serve`: ``nlcsim app``, the server, with no internet needed.
"""
