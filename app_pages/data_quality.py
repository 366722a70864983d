"""Placeholder."""
import streamlit as st
from app_pages import access
access.require("data_quality")
st.title("data_quality")
