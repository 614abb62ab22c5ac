"""The service report a customer signs on site ("Servicebericht" / "Arbeitsnachweis"), and the
time per ticket, site and day for billing.

``model`` builds a :class:`~fieldkit.report.model.Report` from a ticket (rounded time, findings
with their tips, what is still open); ``layout`` turns it into one format-free document that
``markdown``, ``html`` and ``pdf`` render; ``signoff`` reads and records the customer's
acceptance; ``timesheet`` is ``fieldkit report time``. Nothing here imports Typer, and only
``pdf`` imports the PDF library (fpdf2), when a PDF is asked for.
"""
