"""The park's digital twin: live state, energy balance, carbon accounting and KPIs."""
