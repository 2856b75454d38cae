"""Layer 3: the Pulumi glue. The component and its resources, built from plan data; the
only layer that imports pulumi and the providers."""
