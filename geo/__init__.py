"""Geometry only: CRS, validation, boundaries, linking.

Nothing in ``geo`` knows about Streamlit, the store or the domain.
"""
