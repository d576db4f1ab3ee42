"""What the map shows: offline assets, folium builders, styles, legends."""
