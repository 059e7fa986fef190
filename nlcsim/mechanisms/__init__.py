"""One module per phase of a week (MODEL-BRIEF, "What happens in a step").

Each phase is a function of the model's arrays, vectorised over all agents.
The order in which :meth:`nlcsim.model.NLCModel.step` calls them is the
schedule documented in docs/ODD.md, "Process overview and scheduling".
"""
