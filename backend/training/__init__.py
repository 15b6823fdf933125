"""Training: the programmes and cohorts that prepare the zone's UMKM to sell into it, who attended, and which
trained vendors have not yet listed or sold."""
