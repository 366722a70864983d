"""Placeholder."""
import streamlit as st
from app_pages import access
access.require("letters")
st.title("letters")
