"""The inquiries service.

Patient treatment inquiries from third-party sites, and the coordinators' case workflow.
"""
